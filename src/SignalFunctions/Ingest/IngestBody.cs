using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace SignalFunctions.Ingest;

/// <summary>
/// Reads an ingest request body within the size limit. JSON and text/plain are both accepted:
/// navigator.sendBeacon and a CORS "simple request" send text/plain, and so need no preflight.
/// </summary>
public static class IngestBody
{
    public sealed record Body(ReadOnlyMemory<byte> Bytes);

    public static async Task<(Body? Body, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (!IsAcceptedContentType(request.ContentType))
        {
            return (null, Problems.UnsupportedMediaType(request.ContentType));
        }
        if (request.ContentLength > maxBytes)
        {
            return (null, Problems.TooLarge(maxBytes));
        }

        // Chunked bodies have no length up front: read at most one byte past the limit.
        // Content-Length: 0 must still get a buffer (an ArrayBufferWriter of 0 throws): it is answered as an empty body.
        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(request.ContentLength ?? 4096, 1, maxBytes + 1L));
        var stream = request.Body;
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            var read = await stream.ReadAsync(memory, ct);
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                return (null, Problems.TooLarge(maxBytes));
            }
        }
        if (buffer.WrittenCount == 0)
        {
            return (null, Problems.BadRequest("body", "is empty; send a JSON body"));
        }
        return (new Body(buffer.WrittenMemory), null);
    }

    private static bool IsAcceptedContentType(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            return false;
        }
        var type = mediaType.MediaType.Value;
        var isAccepted = string.Equals(type, "application/json", StringComparison.OrdinalIgnoreCase)
                         || string.Equals(type, "text/plain", StringComparison.OrdinalIgnoreCase);
        var charset = mediaType.Charset.Value;
        return isAccepted && (charset is null || string.Equals(charset, "utf-8", StringComparison.OrdinalIgnoreCase));
    }
}
