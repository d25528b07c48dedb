using System.Net;
using System.Security.Cryptography;
using System.Text;
using Azure.Core.Pipeline;
using SignalFunctions.Flags.AppConfiguration;

namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>
/// Known answers for App Configuration's HMAC-SHA256 scheme, with a fixed date, secret and body.
/// The expected string-to-sign and signature are written out here from the documented algorithm
/// (and were computed once outside .NET); the client's requests are captured off the wire.
/// </summary>
public sealed class HmacKnownAnswerTests
{
    private const string SecretBase64 = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3ODkw"; // "secret-key-for-tests-only-1234567890"
    private const string Date = "Fri, 11 May 2018 18:48:36 GMT";
    private const string EmptyBodyHash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    private static readonly DateTimeOffset Now = new(2018, 5, 11, 18, 48, 36, TimeSpan.Zero);

    [Fact]
    public async Task A_list_request_is_signed_as_documented()
    {
        var (client, captured) = Capturing("https://kat.azconfig.io", """{"items":[]}""");

        await client.ListAsync(new KeyValueSelector(".appconfig.featureflag/SignalFunctions.*"));

        var request = Assert.Single(captured);
        const string pathAndQuery = "/kv?key=.appconfig.featureflag%2FSignalFunctions.%2A&label=%00&api-version=2023-11-01";
        const string stringToSign = "GET\n" + pathAndQuery + "\n" + Date + ";kat.azconfig.io;" + EmptyBodyHash;
        Assert.Equal(pathAndQuery, request.PathAndQuery);
        Assert.Equal(Date, request.Headers["x-ms-date"]);
        Assert.Equal(EmptyBodyHash, request.Headers["x-ms-content-sha256"]);
        Assert.Equal(stringToSign, HmacAuthenticationPolicy.StringToSign("GET", request.PathAndQuery, Date, request.Host, EmptyBodyHash));
        Assert.Equal("hutQnlgsy7ANYC++x1Xg+ILA5OjQL2hk4n1t0oYtsZQ=", Independent(stringToSign));
        Assert.Equal("HMAC-SHA256 Credential=kat-id&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=hutQnlgsy7ANYC++x1Xg+ILA5OjQL2hk4n1t0oYtsZQ=",
            request.Headers["Authorization"]);
    }

    [Fact]
    public async Task A_write_on_a_non_default_port_signs_the_body_hash_and_the_port()
    {
        var (client, captured) = Capturing("https://kat.azconfig.io:8443",
            """{"key":".appconfig.featureflag/SignalFunctions.signal-events","label":"prod","value":"live","etag":"e1"}""");

        await client.SetAsync(new KeyValueWrite(".appconfig.featureflag/SignalFunctions.signal-events", "prod", "live", "text/plain"));

        var request = Assert.Single(captured);
        const string body = """{"value":"live","content_type":"text/plain","tags":{}}""";
        const string bodyHash = "Nrvzk0i+XAYNFymN0S9pyuir9pRqmxSV0tE6GVUQxTY=";
        const string pathAndQuery = "/kv/.appconfig.featureflag%2FSignalFunctions.signal-events?label=prod&api-version=2023-11-01";
        const string stringToSign = "PUT\n" + pathAndQuery + "\n" + Date + ";kat.azconfig.io:8443;" + bodyHash;
        Assert.Equal(body, request.Body);
        Assert.Equal(bodyHash, Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(body))));
        Assert.Equal(bodyHash, request.Headers["x-ms-content-sha256"]);
        Assert.Equal("kat.azconfig.io:8443", request.Host);
        Assert.Equal(pathAndQuery, request.PathAndQuery);
        Assert.Equal("application/vnd.microsoft.appconfig.kv+json", request.Headers["Content-Type"]);
        Assert.Equal("BjWdUKgnYQrhIVewvvrLzxCUkeWx2LTcFTZs93DbFYQ=", Independent(stringToSign));
        Assert.EndsWith("&Signature=BjWdUKgnYQrhIVewvvrLzxCUkeWx2LTcFTZs93DbFYQ=", request.Headers["Authorization"]);
    }

    [Fact]
    public async Task Every_retry_is_signed_again_with_its_own_date()
    {
        var clock = new SetClock(Now);
        var attempts = 0;
        var (client, captured) = Capturing("https://kat.azconfig.io", """{"items":[]}""", clock, () =>
        {
            clock.Now = clock.Now.AddSeconds(1);
            return ++attempts == 1 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK;
        });

        await client.ListAsync(new KeyValueSelector("k"));

        Assert.Equal(2, captured.Count);
        Assert.NotEqual(captured[0].Headers["x-ms-date"], captured[1].Headers["x-ms-date"]);
        Assert.NotEqual(captured[0].Headers["Authorization"], captured[1].Headers["Authorization"]);
    }

    /// <summary>The documented signature, computed here without the client: base64(HMACSHA256(base64decode(secret), ASCII(stringToSign))).</summary>
    private static string Independent(string stringToSign)
    {
        using var hmac = new HMACSHA256(Convert.FromBase64String(SecretBase64));
        return Convert.ToBase64String(hmac.ComputeHash(Encoding.ASCII.GetBytes(stringToSign)));
    }

    private sealed record Captured(string PathAndQuery, string Host, string? Body, IReadOnlyDictionary<string, string> Headers);

    private static (AppConfigurationClient Client, List<Captured> Captured) Capturing(string endpoint, string response,
        SetClock? clock = null, Func<HttpStatusCode>? status = null)
    {
        var captured = new List<Captured>();
        var handler = new CaptureHandler(captured, response, status ?? (() => HttpStatusCode.OK));
        var options = new AppConfigurationClientOptions { Clock = clock ?? new SetClock(Now), Transport = new HttpClientTransport(handler) };
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        var connection = AppConfigurationConnection.Parse($"Endpoint={endpoint};Id=kat-id;Secret={SecretBase64}");
        return (new AppConfigurationClient(connection, options), captured);
    }

    private sealed class CaptureHandler(List<Captured> captured, string response, Func<HttpStatusCode> status) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
                .ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
            var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
            // What HttpClient puts on the wire: the request target and the Host header (with a non-default port).
            captured.Add(new Captured(request.RequestUri!.PathAndQuery, request.RequestUri.Authority, body, headers));
            return new HttpResponseMessage(status()) { Content = new StringContent(response, Encoding.UTF8, "application/json") };
        }
    }
}
