using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Browser;

/// <summary>
/// A customer's web site: its own Kestrel on http://localhost:{port}, a different origin from the
/// app on http://127.0.0.1:{port}. Its pages include the snippet from the app, as a site would.
/// <list type="bullet">
/// <item><c>/{api}/article</c>: tracks an impression on load; a save button; a link that tracks a click and navigates away.</item>
/// <item><c>/{api}/quiet</c>: includes the snippet and tracks nothing itself (it sends what earlier pages left).</item>
/// <item><c>/plain</c>: no snippet at all, where the article's link leads.</item>
/// </list>
/// <c>{api}</c> picks data-endpoint: <c>live</c> the app, <c>dead</c> a closed port, <c>default</c> none (the script's own origin).
/// Every page records its errors and console warnings in window.__errors and window.__warnings.
/// </summary>
public sealed class TestSite : IAsyncDisposable
{
    public static readonly Guid ContentId = Guid.Parse("6f1c2a9e-3b7d-4c55-9e0a-1d2b3c4d5e6f");
    public static readonly Guid TutorId = Guid.Parse("0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20");

    private readonly WebApplication _web;

    public Uri Origin { get; }

    private TestSite(WebApplication web, Uri origin)
    {
        _web = web;
        Origin = origin;
    }

    /// <summary>The origin the site will have, so the app can be told to allow it before either starts.</summary>
    public static Uri ReserveOrigin() => new($"http://localhost:{Repo.FreePort()}");

    public static async Task<TestSite> StartAsync(Uri origin, Uri app)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(origin.ToString());
        var web = builder.Build();

        web.MapGet("/plain", () => Results.Content(Page("Elsewhere", "", "<p>No snippet here.</p>"), "text/html; charset=utf-8"));
        var endpoints = new Dictionary<string, string?>
        {
            ["live"] = new Uri(app, "api").ToString(),
            ["dead"] = $"http://127.0.0.1:{Repo.FreePort()}/api",
            ["default"] = null,
        };
        web.MapGet("/{api}/{page}", (string api, string page) =>
        {
            if (!endpoints.TryGetValue(api, out var endpoint) || page is not ("article" or "quiet"))
            {
                return Results.NotFound();
            }
            var dataEndpoint = endpoint is null ? "" : $" data-endpoint=\"{endpoint}\"";
            var snippet = $"""<script src="{new Uri(app, "api/signal.js")}"{dataEndpoint} data-content-id="{ContentId}" async></script>""";
            return Results.Content(Page(page, snippet, page == "article" ? ArticleBody : "<p>Quiet page.</p>"), "text/html; charset=utf-8");
        });

        await web.StartAsync();
        return new TestSite(web, origin);
    }

    public Uri Url(string pathAndQuery) => new(Origin, pathAndQuery);

    private static string Page(string title, string snippet, string body) => $$"""
        <!doctype html>
        <html><head><meta charset="utf-8"><title>{{WebUtility.HtmlEncode(title)}}</title>
        <script>
          window.__errors = [];
          addEventListener('error', function (e) { __errors.push(String(e.message)); });
          addEventListener('unhandledrejection', function (e) { __errors.push(String(e.reason)); });
          window.__warnings = [];
          (function (warn) {
            console.warn = function () { __warnings.push([].slice.call(arguments).join(' ')); warn.apply(console, arguments); };
          })(console.warn);
          // The documented stub: calls made before the async snippet arrives are queued.
          window.signal = window.signal || { q: [], track: function (e) { this.q.push(e); } };
        </script>
        {{snippet}}
        </head><body>
        {{body}}
        </body></html>
        """;

    private static readonly string ArticleBody = $$"""
        <h1>An article</h1>
        <button id="save" onclick="signal.track({event_type: 'save', target_type: 'article', target_id: '{{ContentId}}', source_component: 'floating_save'})">Save</button>
        <a id="tutor" href="/plain" onclick="signal.track({event_type: 'click', target_type: 'tutor', target_id: '{{TutorId}}', source_component: 'tutor_embed'})">A tutor</a>
        <script>
          signal.track({event_type: 'impression', target_type: 'tutor', target_id: '{{TutorId}}', source_component: 'tutor_embed'});
        </script>
        """;

    public async ValueTask DisposeAsync()
    {
        await _web.StopAsync();
        await _web.DisposeAsync();
    }
}
