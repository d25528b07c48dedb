using System.IO.Compression;
using Microsoft.AspNetCore.Http.HttpResults;
using SignalFunctions.Hosting;

namespace SignalFunctions.Ingest;

/// <summary>GET /api/signal.js: the tracking snippet a site includes with a script tag.</summary>
public static class SnippetApi
{
    private static readonly byte[] Script = System.Text.Encoding.UTF8.GetBytes(EmbeddedFiles.Read("snippet/signal.js"));

    // Compressed once: the script is on every page of a site, so its size is paid on every first visit.
    private static readonly byte[] GzippedScript = Gzip(Script);

    public static FileContentHttpResult Get(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.CacheControl = "public, max-age=300";
        headers.Vary = "Accept-Encoding";
        if (context.Request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            headers.ContentEncoding = "gzip";
            return TypedResults.File(GzippedScript, "text/javascript; charset=utf-8");
        }
        return TypedResults.File(Script, "text/javascript; charset=utf-8");
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }
}
