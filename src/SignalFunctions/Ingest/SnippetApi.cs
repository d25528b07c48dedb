using Microsoft.AspNetCore.Http.HttpResults;
using SignalFunctions.Hosting;

namespace SignalFunctions.Ingest;

/// <summary>GET /api/signal.js: the tracking snippet a site includes with a script tag.</summary>
public static class SnippetApi
{
    private static readonly byte[] Script = System.Text.Encoding.UTF8.GetBytes(EmbeddedFiles.Read("snippet/signal.js"));

    public static FileContentHttpResult Get(HttpContext context)
    {
        context.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.File(Script, "text/javascript; charset=utf-8");
    }
}
