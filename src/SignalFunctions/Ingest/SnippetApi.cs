using Microsoft.AspNetCore.Http.HttpResults;
using SignalFunctions.Hosting;

namespace SignalFunctions.Ingest;

/// <summary>GET /api/signal.js: the tracking snippet a site includes with a script tag.</summary>
public static class SnippetApi
{
    // Compressed once: the script is on every page of a site, so its size is paid on every first visit.
    private static readonly EmbeddedAsset Script = EmbeddedAsset.Read("snippet/signal.js", "text/javascript; charset=utf-8");

    public static FileContentHttpResult Get(HttpContext context)
    {
        context.Response.Headers.CacheControl = "public, max-age=300";
        return Script.Serve(context);
    }
}
