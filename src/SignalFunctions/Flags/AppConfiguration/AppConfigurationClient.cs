using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Microsoft.Extensions.Logging.Abstractions;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// A small App Configuration REST client (api-version 2023-11-01) on Azure.Core's HttpPipeline:
/// list with paging and page ETags, get, conditional put, delete, lock. It stands in for
/// Azure.Data.AppConfiguration's ConfigurationClient, which this project cannot take; it knows
/// nothing of flags, refresh loops or snapshots.
/// </summary>
public sealed partial class AppConfigurationClient
{
    private const string KeyValueMediaType = "application/vnd.microsoft.appconfig.kv+json";
    private const string KeyValueSetMediaType = "application/vnd.microsoft.appconfig.kvset+json";
    private const string ProblemMediaType = "application/problem+json";

    private readonly HttpPipeline _pipeline;
    private readonly SyncTokenPolicy _syncTokens = new();
    private readonly ILogger _logger;

    /// <summary>HMAC-SHA256 with an access key from a connection string.</summary>
    public AppConfigurationClient(AppConfigurationConnection connection, AppConfigurationClientOptions? options = null, ILogger? logger = null)
        : this(connection.Endpoint, options ??= new AppConfigurationClientOptions(),
            new HmacAuthenticationPolicy(connection.Id, connection.Secret, options.Clock), logger)
    {
    }

    /// <summary>Entra ID: a bearer token for App Configuration's data plane, from any TokenCredential.</summary>
    public AppConfigurationClient(Uri endpoint, TokenCredential credential, AppConfigurationClientOptions? options = null, ILogger? logger = null)
        : this(endpoint, options ?? new AppConfigurationClientOptions(), new BearerTokenAuthenticationPolicy(credential, EntraScope), logger)
    {
    }

    private AppConfigurationClient(Uri endpoint, AppConfigurationClientOptions options, HttpPipelinePolicy authentication, ILogger? logger)
    {
        Endpoint = new Uri(endpoint.GetLeftPart(UriPartial.Authority));
        _logger = logger ?? NullLogger.Instance;
        options.RetryPolicy ??= new CappedRetryPolicy(options.Retry.MaxRetries,
            DelayStrategy.CreateExponentialDelayStrategy(options.Retry.Delay, options.Retry.MaxDelay), options.MaxServerRetryDelay);
        // Per retry, in this order: tokens first, then the signature (which dates each attempt).
        _pipeline = HttpPipelineBuilder.Build(options, [], [_syncTokens, authentication], new ResponseClassifier());
    }

    /// <summary>The Entra ID scope of App Configuration's data plane (public cloud).</summary>
    public const string EntraScope = "https://appconfig.azure.com/.default";

    /// <summary>
    /// From settings: HMAC when AppConfig__ConnectionString is set, otherwise Entra ID for
    /// AppConfig__Endpoint with <paramref name="credential"/> (DefaultAzureCredential when null).
    /// </summary>
    public static AppConfigurationClient Create(AppConfigOptions settings, TokenCredential? credential = null,
        AppConfigurationClientOptions? options = null, ILogger? logger = null)
    {
        if (!string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            return new AppConfigurationClient(AppConfigurationConnection.Parse(settings.ConnectionString), options, logger);
        }
        if (!string.IsNullOrWhiteSpace(settings.Endpoint))
        {
            return new AppConfigurationClient(new Uri(settings.Endpoint), credential ?? new DefaultAzureCredential(), options, logger);
        }
        throw new InvalidOperationException("Neither AppConfig__ConnectionString nor AppConfig__Endpoint is set.");
    }

    public Uri Endpoint { get; }

    /// <summary>
    /// Takes a Sync-Token learned elsewhere (an Event Grid notification's syncToken), so the next
    /// read sees the change that notification announced.
    /// </summary>
    public void AddSyncToken(string syncToken) => _syncTokens.Add(syncToken);

    /// <summary>
    /// Lists every key-value the selector matches, following every page. With the page ETags of an
    /// earlier listing, each page is asked with If-None-Match first: when every page answers 304
    /// (and no page came or went) the result is <see cref="KeyValueListing.Unchanged"/> and has no
    /// items; otherwise it is a fresh full listing.
    /// </summary>
    public async Task<KeyValueListing> ListAsync(KeyValueSelector selector, IReadOnlyList<string?>? previousPageETags = null,
        CancellationToken ct = default)
    {
        if (previousPageETags is { Count: > 0 } && previousPageETags.All(etag => etag is not null))
        {
            var check = await ListPagesAsync(selector, previousPageETags, ct);
            if (check is not null)
            {
                LogUnchanged(selector.KeyFilter, check.Pages.Count);
                return check;
            }
        }
        var listing = await ListPagesAsync(selector, null, ct)
            ?? throw new InvalidOperationException("An unconditional listing cannot be unchanged.");
        LogListed(selector.KeyFilter, listing.Pages.Count, listing.Pages.Sum(page => page.Items.Count));
        return listing;
    }

    /// <summary>Null as soon as a conditional pass sees a change; otherwise every page.</summary>
    private async Task<KeyValueListing?> ListPagesAsync(KeyValueSelector selector, IReadOnlyList<string?>? ifNoneMatch, CancellationToken ct)
    {
        var pages = new List<KeyValuePage>();
        Uri? next = ListUri(selector);
        while (next is not null)
        {
            var etag = ifNoneMatch is not null && pages.Count < ifNoneMatch.Count ? ifNoneMatch[pages.Count] : null;
            if (ifNoneMatch is not null && etag is null)
            {
                return null; // a page more than last time
            }
            using var message = CreateMessage(RequestMethod.Get, next, $"{KeyValueSetMediaType}, {ProblemMediaType}");
            if (etag is not null)
            {
                message.Request.Headers.SetValue(HttpHeader.Names.IfNoneMatch, Quote(etag));
            }
            var response = await SendAsync(message, ct);
            switch (response.Status)
            {
                case 304:
                    // A 304 has no body: the next page's address comes in its Link header.
                    pages.Add(new KeyValuePage([], etag, NotModified: true));
                    next = NextLink(response, body: null);
                    break;
                case 200 when ifNoneMatch is null:
                    var body = Read(response, KeyValueJson.Default.KeyValueListBody, "the key-value list");
                    pages.Add(new KeyValuePage(body.Items ?? [], ResponseETag(response) ?? body.ETag, NotModified: false));
                    next = NextLink(response, body.NextLink);
                    break;
                case 200:
                    return null; // this page changed
                default:
                    throw Failure(response, "list key-values", selector.KeyFilter, selector.Label);
            }
        }
        if (ifNoneMatch is not null && pages.Count != ifNoneMatch.Count)
        {
            return null; // a page fewer than last time
        }
        return new KeyValueListing(pages, Unchanged: ifNoneMatch is not null);
    }

    /// <summary>One key-value; null when it does not exist. <paramref name="label"/> null is "no label".</summary>
    public async Task<KeyValue?> GetAsync(string key, string? label = null, CancellationToken ct = default) =>
        (await GetCoreAsync(key, label, ifNoneMatch: null, ct)).Value;

    /// <summary>One key-value, asked with If-None-Match: NotModified (304) when its ETag is still <paramref name="etag"/>.</summary>
    public Task<KeyValueRead> GetIfChangedAsync(string key, string? label, string etag, CancellationToken ct = default) =>
        GetCoreAsync(key, label, etag, ct);

    private async Task<KeyValueRead> GetCoreAsync(string key, string? label, string? ifNoneMatch, CancellationToken ct)
    {
        using var message = CreateMessage(RequestMethod.Get, KeyUri("kv", key, label), $"{KeyValueMediaType}, {ProblemMediaType}");
        if (ifNoneMatch is not null)
        {
            message.Request.Headers.SetValue(HttpHeader.Names.IfNoneMatch, Quote(ifNoneMatch));
        }
        var response = await SendAsync(message, ct);
        return response.Status switch
        {
            200 => new KeyValueRead(KeyValueReadStatus.Changed, ReadKeyValue(response)),
            304 => new KeyValueRead(KeyValueReadStatus.NotModified, null),
            404 => new KeyValueRead(KeyValueReadStatus.NotFound, null),
            _ => throw Failure(response, "get", key, label),
        };
    }

    /// <summary>
    /// Writes a key-value (PUT /kv/{key}). A stale If-Match ETag, or an existing key on a create-only
    /// write, throws <see cref="AppConfigurationConcurrencyException"/>; a locked key throws
    /// <see cref="AppConfigurationLockedException"/>.
    /// </summary>
    public async Task<KeyValue> SetAsync(KeyValueWrite write, WriteCondition condition = default, CancellationToken ct = default)
    {
        using var message = CreateMessage(RequestMethod.Put, KeyUri("kv", write.Key, write.Label), $"{KeyValueMediaType}, {ProblemMediaType}");
        message.Request.Headers.SetValue(HttpHeader.Names.ContentType, KeyValueMediaType);
        message.Request.Content = RequestContent.Create(JsonSerializer.SerializeToUtf8Bytes(
            new KeyValueWriteBody(write.Value, write.ContentType, write.Tags ?? new Dictionary<string, string?>()),
            KeyValueJson.Default.KeyValueWriteBody));
        AddCondition(message, condition);
        var response = await SendAsync(message, ct);
        return response.Status == 200 ? ReadKeyValue(response) : throw Failure(response, "write", write.Key, write.Label);
    }

    /// <summary>Deletes a key-value; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string key, string? label = null, WriteCondition condition = default, CancellationToken ct = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, KeyUri("kv", key, label), $"{KeyValueMediaType}, {ProblemMediaType}");
        AddCondition(message, condition);
        var response = await SendAsync(message, ct);
        return response.Status switch
        {
            200 => true,
            204 => false,
            _ => throw Failure(response, "delete", key, label),
        };
    }

    /// <summary>Locks (read-only) or unlocks a key-value (PUT / DELETE /locks/{key}).</summary>
    public async Task<KeyValue> SetLockedAsync(string key, string? label, bool locked, CancellationToken ct = default)
    {
        using var message = CreateMessage(locked ? RequestMethod.Put : RequestMethod.Delete, KeyUri("locks", key, label),
            $"{KeyValueMediaType}, {ProblemMediaType}");
        var response = await SendAsync(message, ct);
        return response.Status == 200 ? ReadKeyValue(response) : throw Failure(response, locked ? "lock" : "unlock", key, label);
    }

    private HttpMessage CreateMessage(RequestMethod method, Uri uri, string accept)
    {
        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(uri);
        message.Request.Headers.SetValue(HttpHeader.Names.Accept, accept);
        return message;
    }

    private async Task<Response> SendAsync(HttpMessage message, CancellationToken ct)
    {
        try
        {
            await _pipeline.SendAsync(message, ct);
            return message.Response;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && IsUnreachable(ex))
        {
            throw new AppConfigurationException(
                $"App Configuration at {Endpoint} is unreachable: {Innermost(ex).Message}", status: 0, inner: ex);
        }
        catch (Exception ex) when (ct.IsCancellationRequested && ex is not OperationCanceledException)
        {
            // Azure.Core's retries throw the attempts' failures together (AggregateException), even
            // when the last was the caller's cancellation: the caller cancelled, and hears just that.
            throw new OperationCanceledException($"The App Configuration call to {Endpoint} was cancelled: {Innermost(ex).Message}", ex, ct);
        }
    }

    // Connection refused, reset, DNS, TLS, and network timeouts (Azure.Core cancels an attempt past
    // Retry.NetworkTimeout): what is left once Azure.Core's retries are spent.
    private static bool IsUnreachable(Exception ex) =>
        ex is RequestFailedException { Status: 0 } or AggregateException or OperationCanceledException or IOException
            or System.Net.Http.HttpRequestException;

    private static Exception Innermost(Exception ex) => ex switch
    {
        AggregateException aggregate => Innermost(aggregate.InnerExceptions[^1]),
        { InnerException: { } inner } => Innermost(inner),
        _ => ex,
    };

    private Uri ListUri(KeyValueSelector selector) =>
        // The filter's '*' and a key's '/' are escaped like any other character; "%00" is "no label".
        new(Endpoint, $"/kv?key={Uri.EscapeDataString(selector.KeyFilter)}&label={Uri.EscapeDataString(selector.Label ?? "\0")}" +
            $"&api-version={AppConfigurationClientOptions.ApiVersion}");

    private Uri KeyUri(string collection, string key, string? label)
    {
        // No label parameter means "no label" for a single key-value.
        var labelQuery = label is null ? "" : $"label={Uri.EscapeDataString(label)}&";
        return new Uri(Endpoint, $"/{collection}/{Uri.EscapeDataString(key)}?{labelQuery}api-version={AppConfigurationClientOptions.ApiVersion}");
    }

    /// <summary>The next page: the Link header (<c>&lt;/kv?…&gt;; rel="next"</c>) or the body's @nextLink.</summary>
    private Uri? NextLink(Response response, string? body)
    {
        var link = body;
        if (response.Headers.TryGetValue("Link", out var header))
        {
            foreach (var part in header.Split(','))
            {
                var (start, end) = (part.IndexOf('<', StringComparison.Ordinal), part.IndexOf('>', StringComparison.Ordinal));
                if (start >= 0 && end > start && part.Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase))
                {
                    link = part[(start + 1)..end];
                }
            }
        }
        if (string.IsNullOrEmpty(link))
        {
            return null;
        }
        var uri = new Uri(Endpoint, link);
        return uri.Query.Contains("api-version=", StringComparison.Ordinal)
            ? uri
            : new Uri($"{uri}{(uri.Query.Length > 0 ? "&" : "?")}api-version={AppConfigurationClientOptions.ApiVersion}");
    }

    private static void AddCondition(HttpMessage message, WriteCondition condition)
    {
        if (condition.IfMatch is not null)
        {
            message.Request.Headers.SetValue(HttpHeader.Names.IfMatch, Quote(condition.IfMatch));
        }
        else if (condition.IfAbsent)
        {
            message.Request.Headers.SetValue(HttpHeader.Names.IfNoneMatch, "*");
        }
    }

    private static string Quote(string etag) => etag.StartsWith('"') ? etag : $"\"{etag}\"";

    private static string? ResponseETag(Response response) =>
        response.Headers.TryGetValue("ETag", out var etag) ? etag.Replace("W/", "", StringComparison.Ordinal).Trim('"') : null;

    private KeyValue ReadKeyValue(Response response)
    {
        var keyValue = Read(response, KeyValueJson.Default.KeyValue, "the key-value");
        return keyValue.ETag.Length > 0 ? keyValue : keyValue with { ETag = ResponseETag(response) ?? "" };
    }

    // A body that is not what the contract says is a failure of the call, never a half-read value.
    private T Read<T>(Response response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(response.Content.ToMemory().Span, type)
                ?? throw new JsonException("the body is null");
        }
        catch (JsonException ex)
        {
            throw new AppConfigurationException($"App Configuration at {Endpoint} answered {what} with invalid JSON: {ex.Message}",
                response.Status, inner: ex);
        }
    }

    private AppConfigurationException Failure(Response response, string operation, string key, string? label)
    {
        var what = $"'{key}'{(label is null ? "" : $" (label '{label}')")}";
        var noun = key.StartsWith(FeatureFlagKeys.Prefix, StringComparison.Ordinal) ? "Flag" : "Key";
        return response.Status switch
        {
            409 => new AppConfigurationLockedException(key, label,
                $"{noun} {what} is locked in App Configuration (409 Conflict): unlock it there before changing it."),
            412 => new AppConfigurationConcurrencyException(key, label,
                $"{noun} {what} changed in App Configuration since it was read (412 Precondition Failed): read it again and retry."),
            401 or 403 => new AppConfigurationException(
                $"App Configuration at {Endpoint} refused to {operation} {what} ({response.Status} {response.ReasonPhrase}): " +
                $"check the access key in {AppConfigurationConnection.SettingName}, or the identity's App Configuration Data role. {Detail(response)}",
                response.Status),
            _ => new AppConfigurationException(
                $"App Configuration at {Endpoint} could not {operation} {what}: {response.Status} {response.ReasonPhrase}. {Detail(response)}",
                response.Status, CappedRetryPolicy.ServerDelay(response)),
        };
    }

    /// <summary>The problem+json title and detail, when the error has them.</summary>
    private static string Detail(Response response)
    {
        try
        {
            using var problem = JsonDocument.Parse(response.Content.ToMemory());
            var root = problem.RootElement;
            return string.Join(" ", new[] { "title", "detail" }
                .Select(name => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null)
                .OfType<string>());
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            return "";
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Listed {Count} key-values in {Pages} pages for {KeyFilter}")]
    private partial void LogListed(string keyFilter, int pages, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Key-values for {KeyFilter} unchanged ({Pages} pages answered 304)")]
    private partial void LogUnchanged(string keyFilter, int pages);
}
