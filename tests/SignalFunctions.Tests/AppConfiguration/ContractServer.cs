using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>
/// An in-process App Configuration (Kestrel on a free loopback port) that speaks the documented
/// REST contract (AZURE.md) and checks it: the HMAC-SHA256 signature is recomputed from the raw
/// request with the documented algorithm (401 on a wrong credential, signature, content hash or a
/// date more than 15 minutes off), api-version 2023-11-01, paging with a small page size (Link
/// header and/or @nextLink), page and key ETags with 304 on If-None-Match, If-Match / If-None-Match *
/// with 412, locked keys with 409, Sync-Token on every response. It can throttle (429/503 with a
/// chosen retry-after header), stall, serve garbage, lag like a replica that only a Sync-Token
/// catches up, and go down (connection refused) and come back on the same port. It accepts a set
/// of access keys (<see cref="ConnectionStringFor"/>) and records which one signed each request,
/// so several clients (app instances) can be told apart.
/// </summary>
public sealed class ContractServer : IAsyncDisposable
{
    public const string Id = "contract-id";
    public const string TokenId = "primary";
    public const string AuxTokenId = "aux";
    public static readonly byte[] Secret = Encoding.ASCII.GetBytes("contract-server-secret-for-tests-only");
    private static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);

    private readonly object _gate = new();
    private readonly int _port;
    private readonly X509Certificate2? _certificate;
    private readonly List<RecordedRequest> _requests = [];
    private readonly Queue<Injected> _injected = new();
    private readonly Dictionary<string, byte[]> _credentials = new(StringComparer.Ordinal) { [Id] = Secret };
    private WebApplication? _web;

    // Every version of the store, by sequence number: a lagging replica serves an older one.
    private readonly List<ImmutableSortedDictionary<string, Entry>> _versions = [ImmutableSortedDictionary<string, Entry>.Empty.WithComparers(StringComparer.Ordinal)];
    private long _settled;

    private ContractServer(int port, X509Certificate2? certificate)
    {
        _port = port;
        _certificate = certificate;
        Endpoint = new Uri($"{(certificate is null ? "http" : "https")}://127.0.0.1:{port}");
    }

    public Uri Endpoint { get; }

    public string ConnectionString => $"Endpoint={Endpoint};Id={Id};Secret={Convert.ToBase64String(Secret)}";

    /// <summary>
    /// The connection string of another access key of this store (a store has several, as does the
    /// emulator): a secret of its own, and its id recorded on every request it signs.
    /// </summary>
    public string ConnectionStringFor(string credential)
    {
        var secret = SHA256.HashData(Encoding.UTF8.GetBytes($"{credential}\n{Encoding.ASCII.GetString(Secret)}"));
        lock (_gate)
        {
            _credentials[credential] = secret;
        }
        return $"Endpoint={Endpoint};Id={credential};Secret={Convert.ToBase64String(secret)}";
    }

    /// <summary>The certificate of an https server, for a client transport that trusts it.</summary>
    public X509Certificate2? Certificate => _certificate;

    public int PageSize { get; set; } = 2;

    public NextLinkStyle NextLinks { get; set; } = NextLinkStyle.Both;

    /// <summary>When set, "Authorization: Bearer {token}" is the only credential accepted.</summary>
    public string? BearerToken { get; set; }

    /// <summary>Reads without a Sync-Token serve the last settled version, not the latest write.</summary>
    public bool LaggingReplica { get; set; }

    /// <summary>The server's clock, for the ±15 minute date check.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    public long Sequence
    {
        get { lock (_gate) { return _versions.Count - 1; } }
    }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get { lock (_gate) { return _requests.ToList(); } }
    }

    public static async Task<ContractServer> StartAsync(bool https = false)
    {
        var server = new ContractServer(Repo.FreePort(), https ? SelfSignedCertificate() : null);
        await server.UpAsync();
        return server;
    }

    /// <summary>Listening again on the same port, with the same store.</summary>
    public async Task UpAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, _port, listen =>
        {
            if (_certificate is not null)
            {
                listen.UseHttps(_certificate);
            }
        }));
        var web = builder.Build();
        web.Run(HandleAsync);
        await web.StartAsync();
        _web = web;
    }

    /// <summary>Down: the port refuses connections until <see cref="UpAsync"/>.</summary>
    public async Task DownAsync()
    {
        if (_web is { } web)
        {
            _web = null;
            await web.StopAsync();
            await web.DisposeAsync();
        }
    }

    public void ClearRequests()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    /// <summary>The next <paramref name="count"/> requests answer <paramref name="status"/> with the given header.</summary>
    public void Throttle(int count, int status = 429, string? header = "retry-after-ms", string? value = "200")
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                _injected.Enqueue(new Injected(status, header, value, TimeSpan.Zero, Garbage: false));
            }
        }
    }

    /// <summary>The next <paramref name="count"/> requests wait <paramref name="delay"/> before they are answered.</summary>
    public void Stall(int count, TimeSpan delay)
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                _injected.Enqueue(new Injected(0, null, null, delay, Garbage: false));
            }
        }
    }

    /// <summary>The next <paramref name="count"/> requests' 200s carry a body that is not JSON.</summary>
    public void ServeGarbage(int count = 1)
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                _injected.Enqueue(new Injected(0, null, null, TimeSpan.Zero, Garbage: true));
            }
        }
    }

    /// <summary>
    /// Whatever throttling, stalls or garbage is still queued is dropped: from the next request on
    /// the server behaves (a request already stalled still waits its delay out).
    /// </summary>
    public void ClearInjected()
    {
        lock (_gate)
        {
            _injected.Clear();
        }
    }

    /// <summary>The lagging replica catches up with every write so far.</summary>
    public void Settle()
    {
        lock (_gate)
        {
            _settled = _versions.Count - 1;
        }
    }

    /// <summary>Writes straight into the store (as the portal would), bypassing the API.</summary>
    public Entry Seed(string key, string? label, string? value, string? contentType = null, bool locked = false)
    {
        lock (_gate)
        {
            var entry = new Entry(key, label, value, contentType, ImmutableDictionary<string, string?>.Empty, NewETag(), Clock.GetUtcNow(), locked);
            Commit(_versions[^1].SetItem(SortKey(key, label), entry));
            _settled = _versions.Count - 1;
            return entry;
        }
    }

    public Entry? Find(string key, string? label)
    {
        lock (_gate)
        {
            return _versions[^1].GetValueOrDefault(SortKey(key, label));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DownAsync();
        _certificate?.Dispose();
    }

    private async Task HandleAsync(HttpContext http)
    {
        var target = http.Features.Get<IHttpRequestFeature>()!.RawTarget;
        using var bodyBuffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(bodyBuffer, http.RequestAborted);
        var body = bodyBuffer.ToArray();

        Injected? injected;
        lock (_gate)
        {
            _injected.TryDequeue(out injected);
        }
        if (injected is { Delay: var delay } && delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, http.RequestAborted);
        }

        var refused = Authenticate(http, target, body, out var credential);
        var reply = injected is { Status: > 0 }
            ? Reply.Problem(injected.Status, "throttled", "Injected by the test.") with
            {
                Headers = injected.Header is null ? [] : [(injected.Header, injected.Value!)],
            }
            : refused ?? Handle(http.Request, target, body);
        if (injected is { Garbage: true } && reply.Status == 200)
        {
            reply = reply with { Body = "{\"items\": [ not json" };
        }

        lock (_gate)
        {
            _requests.Add(new RecordedRequest(http.Request.Method, target, reply.Status, Clock.GetUtcNow(),
                Header(http, "If-None-Match"), Header(http, "If-Match"), Header(http, "Sync-Token"),
                Header(http, "Authorization")?.Split(' ')[0], reply.AuthFailure) { Credential = credential });
        }

        http.Response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers)
        {
            http.Response.Headers.Append(name, value);
        }
        http.Response.Headers["Sync-Token"] = SyncTokenHeader(reply.Sequence);
        if (reply.Body is not null)
        {
            http.Response.ContentType = reply.ContentType;
            await http.Response.WriteAsync(reply.Body, http.RequestAborted);
        }
    }

    private static string? Header(HttpContext http, string name) =>
        http.Request.Headers.TryGetValue(name, out var value) ? value.ToString() : null;

    /// <summary>
    /// The documented HMAC-SHA256 check, recomputed from the raw request; or the bearer token.
    /// <paramref name="credential"/>: the access key id whose signature held (null when none did).
    /// </summary>
    private Reply? Authenticate(HttpContext http, string target, byte[] body, out string? credential)
    {
        credential = null;
        var authorization = Header(http, "Authorization") ?? "";
        if (BearerToken is not null)
        {
            return authorization == $"Bearer {BearerToken}" ? null : Unauthorized("bearer");
        }
        if (!authorization.StartsWith("HMAC-SHA256 ", StringComparison.Ordinal))
        {
            return Unauthorized("scheme");
        }
        var fields = authorization["HMAC-SHA256 ".Length..].Split('&')
            .Select(part => part.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        byte[]? secret;
        lock (_gate)
        {
            secret = _credentials.GetValueOrDefault(fields.GetValueOrDefault("Credential") ?? "");
        }
        if (secret is null)
        {
            return Unauthorized("credential");
        }
        var signedHeaders = fields.GetValueOrDefault("SignedHeaders")?.Split(';') ?? [];
        if (!signedHeaders.Contains("host") || !signedHeaders.Contains("x-ms-content-sha256") ||
            !(signedHeaders.Contains("x-ms-date") || signedHeaders.Contains("date")))
        {
            return Unauthorized("signed-headers");
        }
        var dateText = Header(http, "x-ms-date") ?? Header(http, "Date");
        if (!DateTimeOffset.TryParseExact(dateText, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ||
            (Clock.GetUtcNow() - date).Duration() > MaxSkew)
        {
            return Unauthorized("date");
        }
        if (Header(http, "x-ms-content-sha256") != Convert.ToBase64String(SHA256.HashData(body)))
        {
            return Unauthorized("content-hash");
        }
        var values = signedHeaders.Select(name => name == "host" ? http.Request.Headers.Host.ToString() : Header(http, name) ?? "");
        var stringToSign = $"{http.Request.Method}\n{target}\n{string.Join(";", values)}";
        var expected = Convert.ToBase64String(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(stringToSign)));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(fields.GetValueOrDefault("Signature") ?? "")))
        {
            return Unauthorized("signature");
        }
        credential = fields["Credential"];
        return null;
    }

    private static Reply Unauthorized(string reason) =>
        Reply.Problem(401, "unauthorized", $"Authentication failed: {reason}.") with
        {
            Headers = [("WWW-Authenticate", $"HMAC-SHA256 error=\"invalid_token\" error_description=\"{reason}\"")],
            AuthFailure = reason,
        };

    private Reply Handle(HttpRequest request, string target, byte[] body)
    {
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? target : target[..question];
        var rawQuery = question < 0 ? "" : target[(question + 1)..];
        var query = rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair.Length > 1 ? Uri.UnescapeDataString(pair[1]) : "", StringComparer.Ordinal);
        if (query.GetValueOrDefault("api-version") != "2023-11-01")
        {
            return Reply.Problem(400, "invalid-api-version", "api-version must be 2023-11-01.");
        }
        if (request.Headers.TryGetValue("Sync-Token", out var tokens) &&
            tokens.ToString().Split(',').Any(token => !token.Contains('=', StringComparison.Ordinal)))
        {
            return Reply.Problem(400, "invalid-sync-token", "Sync-Token is id=value[,id=value].");
        }
        var label = query.TryGetValue("label", out var labelText) && labelText != "\0" ? labelText : null;
        var method = request.Method;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        lock (_gate)
        {
            return segments switch
            {
                ["kv"] when method == "GET" => List(request, query, rawQuery),
                ["kv", var key] when method == "GET" => Get(request, Uri.UnescapeDataString(key), label),
                ["kv", var key] when method == "PUT" => Put(request, Uri.UnescapeDataString(key), label, body),
                ["kv", var key] when method == "DELETE" => Delete(request, Uri.UnescapeDataString(key), label),
                ["locks", var key] when method is "PUT" or "DELETE" => Lock(Uri.UnescapeDataString(key), label, method == "PUT"),
                _ => Reply.Problem(404, "not-found", $"No route for {method} {path}."),
            };
        }
    }

    /// <summary>The version a read is served from, and its sequence number.</summary>
    private (ImmutableSortedDictionary<string, Entry> Version, long Sequence) ReadVersion(HttpRequest request)
    {
        if (!LaggingReplica)
        {
            return (_versions[^1], _versions.Count - 1);
        }
        // A Sync-Token at least as new as a write makes the replica serve that write.
        var seen = _settled;
        var header = request.Headers["Sync-Token"].ToString();
        foreach (var token in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (id, value) = (token.Split('=', 2)[0], token.Split('=', 2)[1].Split(';')[0]);
            if (id == TokenId && long.TryParse(Encoding.ASCII.GetString(Convert.FromBase64String(value)), out var sequence))
            {
                seen = Math.Max(seen, Math.Min(sequence, _versions.Count - 1));
            }
        }
        return (_versions[(int)seen], seen);
    }

    private Reply List(HttpRequest request, Dictionary<string, string> query, string rawQuery)
    {
        if (!query.TryGetValue("key", out var keyFilter))
        {
            return Reply.Problem(400, "invalid-filter", "This test server wants an explicit key filter.");
        }
        var labelFilter = query.GetValueOrDefault("label");
        var (version, sequence) = ReadVersion(request);
        var matches = version.Values
            .Where(entry => keyFilter.EndsWith('*') ? entry.Key.StartsWith(keyFilter[..^1], StringComparison.Ordinal) : entry.Key == keyFilter)
            .Where(entry => labelFilter switch
            {
                null or "*" => true,
                "\0" => entry.Label is null,
                _ => entry.Label == labelFilter,
            })
            .ToList();
        var after = query.GetValueOrDefault("after");
        var page = matches.Where(entry => after is null || string.CompareOrdinal(SortKey(entry.Key, entry.Label), Unwrap(after)) > 0)
            .Take(PageSize).ToList();
        var more = page.Count > 0 && matches.Any(entry => string.CompareOrdinal(SortKey(entry.Key, entry.Label), SortKey(page[^1].Key, page[^1].Label)) > 0);
        string? nextLink = null;
        if (more)
        {
            var baseQuery = string.Join('&', rawQuery.Split('&').Where(part => !part.StartsWith("after=", StringComparison.Ordinal)));
            nextLink = $"/kv?{baseQuery}&after={Uri.EscapeDataString(Wrap(SortKey(page[^1].Key, page[^1].Label)))}";
        }
        var etag = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(
            (after ?? "") + string.Concat(page.Select(entry => $"{SortKey(entry.Key, entry.Label)}\n{entry.ETag}\n")))));
        var headers = new List<(string, string)> { ("ETag", $"\"{etag}\"") };
        if (nextLink is not null && NextLinks != NextLinkStyle.BodyOnly)
        {
            headers.Add(("Link", $"<{nextLink}>; rel=\"next\""));
        }
        if (request.Headers.IfNoneMatch.ToString() == $"\"{etag}\"")
        {
            // 304 has no body: the next page's address stays in the Link header.
            return new Reply(304, null, headers) { Sequence = sequence };
        }
        var json = new JsonObject
        {
            ["items"] = new JsonArray(page.Select(entry => (JsonNode)entry.ToJson()).ToArray()),
            ["etag"] = etag,
        };
        if (nextLink is not null && NextLinks != NextLinkStyle.HeaderOnly)
        {
            json["@nextLink"] = nextLink;
        }
        return new Reply(200, json.ToJsonString(), headers, "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8") { Sequence = sequence };
    }

    private Reply Get(HttpRequest request, string key, string? label)
    {
        var (version, sequence) = ReadVersion(request);
        var entry = version.GetValueOrDefault(SortKey(key, label));
        if (entry is null)
        {
            return Reply.Problem(404, "not-found", $"No key-value '{key}'.") with { Sequence = sequence };
        }
        return request.Headers.IfNoneMatch.ToString() == $"\"{entry.ETag}\""
            ? new Reply(304, null, [("ETag", $"\"{entry.ETag}\"")]) { Sequence = sequence }
            : Item(entry) with { Sequence = sequence };
    }

    private Reply Put(HttpRequest request, string key, string? label, byte[] body)
    {
        if (!(request.ContentType ?? "").StartsWith("application/vnd.microsoft.appconfig.kv+json", StringComparison.Ordinal))
        {
            return Reply.Problem(415, "unsupported-media-type", "Content-Type must be application/vnd.microsoft.appconfig.kv+json.");
        }
        var existing = _versions[^1].GetValueOrDefault(SortKey(key, label));
        if (Refused(request, key, existing) is { } refused)
        {
            return refused;
        }
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return Reply.Problem(400, "invalid-body", "The body is not JSON.");
        }
        var tags = json?["tags"]?.AsObject().ToImmutableDictionary(pair => pair.Key, pair => pair.Value?.GetValue<string>())
            ?? ImmutableDictionary<string, string?>.Empty;
        var entry = new Entry(key, label, json?["value"]?.GetValue<string>(), json?["content_type"]?.GetValue<string>(), tags,
            NewETag(), Clock.GetUtcNow(), Locked: false);
        Commit(_versions[^1].SetItem(SortKey(key, label), entry));
        return Item(entry) with { Sequence = _versions.Count - 1 };
    }

    private Reply Delete(HttpRequest request, string key, string? label)
    {
        var existing = _versions[^1].GetValueOrDefault(SortKey(key, label));
        if (existing is null)
        {
            return new Reply(204, null, []);
        }
        if (Refused(request, key, existing) is { } refused)
        {
            return refused;
        }
        Commit(_versions[^1].Remove(SortKey(key, label)));
        return Item(existing) with { Sequence = _versions.Count - 1 };
    }

    private Reply Lock(string key, string? label, bool locked)
    {
        var existing = _versions[^1].GetValueOrDefault(SortKey(key, label));
        if (existing is null)
        {
            return Reply.Problem(404, "not-found", $"No key-value '{key}'.");
        }
        var entry = existing with { Locked = locked, ETag = NewETag(), LastModified = Clock.GetUtcNow() };
        Commit(_versions[^1].SetItem(SortKey(key, label), entry));
        return Item(entry) with { Sequence = _versions.Count - 1 };
    }

    /// <summary>409 for a locked key; 412 when If-Match or If-None-Match: * does not hold.</summary>
    private static Reply? Refused(HttpRequest request, string key, Entry? existing)
    {
        if (existing is { Locked: true })
        {
            return Reply.Problem(409, "key-locked", $"The key-value '{key}' is read-only.");
        }
        var ifMatch = request.Headers.IfMatch.ToString();
        if (ifMatch.Length > 0 && (existing is null || (ifMatch != "*" && ifMatch != $"\"{existing.ETag}\"")))
        {
            return Reply.Problem(412, "precondition-failed", "If-Match does not match the current ETag.");
        }
        if (request.Headers.IfNoneMatch.ToString() == "*" && existing is not null)
        {
            return Reply.Problem(412, "precondition-failed", "The key-value exists (If-None-Match: *).");
        }
        return null;
    }

    /// <summary>A write goes to the primary at once; its response carries the new sequence number.</summary>
    private void Commit(ImmutableSortedDictionary<string, Entry> version)
    {
        _versions.Add(version);
        if (!LaggingReplica)
        {
            _settled = _versions.Count - 1;
        }
    }

    /// <summary>Answers carry the token of the version they served or wrote; refusals that of the replica.</summary>
    private string SyncTokenHeader(long? served)
    {
        long sequence;
        lock (_gate)
        {
            sequence = served ?? (LaggingReplica ? _settled : _versions.Count - 1);
        }
        // Two tokens in one header, as the service may send; the value is base64 and may hold '='.
        var value = Convert.ToBase64String(Encoding.ASCII.GetBytes(sequence.ToString(CultureInfo.InvariantCulture)));
        return $"{TokenId}={value};sn={sequence},{AuxTokenId}=YXV4;sn=1";
    }

    private static Reply Item(Entry entry) =>
        new(200, entry.ToJson().ToJsonString(), [("ETag", $"\"{entry.ETag}\""), ("Last-Modified", entry.LastModified.ToString("r", CultureInfo.InvariantCulture))],
            "application/vnd.microsoft.appconfig.kv+json; charset=utf-8");

    private static string SortKey(string key, string? label) => $"{key}\u0001{label ?? ""}";

    private static string Wrap(string sortKey) => Convert.ToBase64String(Encoding.UTF8.GetBytes(sortKey));

    private static string Unwrap(string after) => Encoding.UTF8.GetString(Convert.FromBase64String(after));

    private static string NewETag() => Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // A PFX round trip gives Kestrel a certificate whose private key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    public sealed record Entry(string Key, string? Label, string? Value, string? ContentType,
        ImmutableDictionary<string, string?> Tags, string ETag, DateTimeOffset LastModified, bool Locked)
    {
        public JsonObject ToJson() => new()
        {
            ["etag"] = ETag,
            ["key"] = Key,
            ["label"] = Label,
            ["content_type"] = ContentType,
            ["value"] = Value,
            ["tags"] = new JsonObject(Tags.Select(tag => KeyValuePair.Create(tag.Key, (JsonNode?)tag.Value))),
            ["locked"] = Locked,
            ["last_modified"] = LastModified.ToString("yyyy-MM-ddTHH:mm:ss.fffK", CultureInfo.InvariantCulture),
        };
    }

    private sealed record Injected(int Status, string? Header, string? Value, TimeSpan Delay, bool Garbage);

    private sealed record Reply(int Status, string? Body, IReadOnlyList<(string Name, string Value)> Headers,
        string ContentType = "application/problem+json; charset=utf-8")
    {
        public string? AuthFailure { get; init; }

        public long? Sequence { get; init; }

        public static Reply Problem(int status, string type, string title) =>
            new(status, new JsonObject { ["type"] = $"https://azconfig.io/errors/{type}", ["title"] = title, ["status"] = status }.ToJsonString(), []);
    }
}

public enum NextLinkStyle
{
    Both,
    HeaderOnly,
    BodyOnly,
}

public sealed record RecordedRequest(string Method, string Target, int Status, DateTimeOffset At,
    string? IfNoneMatch, string? IfMatch, string? SyncToken, string? AuthScheme, string? AuthFailure)
{
    /// <summary>The access key id that signed the request (its signature held); null for a bearer token or a refused one.</summary>
    public string? Credential { get; init; }
}
