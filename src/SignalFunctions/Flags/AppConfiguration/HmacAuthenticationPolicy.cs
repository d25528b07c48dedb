using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// App Configuration's HMAC-SHA256 scheme (AZURE.md, "App Configuration REST"). A per-retry policy:
/// the date is part of the signature, so every attempt is signed afresh.
/// Azure.Data.AppConfiguration has the same policy internally; it is not available here.
/// </summary>
internal sealed class HmacAuthenticationPolicy(string credential, byte[] secret, TimeProvider clock) : HttpPipelinePolicy
{
    public const string SignedHeaders = "x-ms-date;host;x-ms-content-sha256";

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Sign(message, ContentHash(message.Request.Content, message.CancellationToken));
        ProcessNext(message, pipeline);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Sign(message, await ContentHashAsync(message.Request.Content, message.CancellationToken).ConfigureAwait(false));
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
    }

    private void Sign(HttpMessage message, string contentHash)
    {
        var date = clock.GetUtcNow().ToString("r", CultureInfo.InvariantCulture);
        // Exactly what goes on the wire: the host with a non-default port, the path with '/' in a key as %2F.
        var uri = message.Request.Uri.ToUri();
        var stringToSign = StringToSign(message.Request.Method.Method, uri.PathAndQuery, date, uri.Authority, contentHash);

        message.Request.Headers.SetValue("x-ms-date", date);
        message.Request.Headers.SetValue("x-ms-content-sha256", contentHash);
        message.Request.Headers.SetValue(HttpHeader.Names.Authorization,
            $"HMAC-SHA256 Credential={credential}&SignedHeaders={SignedHeaders}&Signature={Signature(secret, stringToSign)}");
    }

    internal static string StringToSign(string method, string pathAndQuery, string date, string host, string contentHash) =>
        $"{method}\n{pathAndQuery}\n{date};{host};{contentHash}";

    internal static string Signature(byte[] secret, string stringToSign) =>
        Convert.ToBase64String(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(stringToSign)));

    // The hash is required for every request, an empty body included (SHA-256 of nothing).
    private static string ContentHash(RequestContent? content, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        content?.WriteTo(buffer, ct);
        return Convert.ToBase64String(SHA256.HashData(buffer.ToArray()));
    }

    private static async ValueTask<string> ContentHashAsync(RequestContent? content, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        if (content is not null)
        {
            await content.WriteToAsync(buffer, ct).ConfigureAwait(false);
        }
        return Convert.ToBase64String(SHA256.HashData(buffer.ToArray()));
    }
}
