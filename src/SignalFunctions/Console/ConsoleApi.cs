using System.Collections.Frozen;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using SignalFunctions.Hosting;
using SignalFunctions.Ingest;

// Not SignalFunctions.Console: that namespace would hide System.Console from every SignalFunctions.* namespace.
namespace SignalFunctions.OpsConsole;

/// <summary>
/// GET /api/console: the ops console, one page that reads the app's own JSON APIs with the key it
/// was opened with; GET /api/console/{file}: its script and style sheet. All embedded, nothing
/// from elsewhere, and the page may run no script but its own.
/// </summary>
public static class ConsoleApi
{
    public const string Folder = "console";
    private const string PageFile = "console.html";

    // No inline script or style, no other origin, no framing; forms are handled by the script.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

    // The page tells the script where the Signal Path Viewer's list is cut, so it can say when it was.
    private static readonly EmbeddedAsset Page = new(
        EmbeddedFiles.Read($"{Folder}/{PageFile}").Replace("{{path-limit}}", SignalEventsApi.MaxPathEvents.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal),
        "text/html; charset=utf-8");

    private static readonly FrozenDictionary<string, EmbeddedAsset> Assets = EmbeddedFiles.Names(Folder)
        .Select(name => name[(Folder.Length + 1)..])
        .Where(file => file != PageFile)
        .ToFrozenDictionary(file => file, file => EmbeddedAsset.Read($"{Folder}/{file}", ContentTypeOf(file)), StringComparer.Ordinal);

    public static FileContentHttpResult GetPage(HttpContext context)
    {
        // The page carries no data, but its address carries the function key: keep it out of shared caches and referrers.
        Secure(context, "private, no-cache");
        return Page.Serve(context);
    }

    public static Results<FileContentHttpResult, NotFound> GetAsset(string file, HttpContext context)
    {
        if (!Assets.TryGetValue(file, out var asset))
        {
            return TypedResults.NotFound();
        }
        // Revalidated on every load (a 304 costs a round trip and no bytes): after a deploy the page and its script change together.
        Secure(context, "no-cache");
        return asset.Serve(context);
    }

    private static void Secure(HttpContext context, string cacheControl)
    {
        var headers = context.Response.Headers;
        headers.CacheControl = cacheControl;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
    }

    private static string ContentTypeOf(string file) => Path.GetExtension(file) switch
    {
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        // A file the build embeds but nothing could serve correctly is a mistake to see at once.
        var other => throw new InvalidOperationException($"Console file '{file}' has an extension ('{other}') the console does not serve."),
    };
}
