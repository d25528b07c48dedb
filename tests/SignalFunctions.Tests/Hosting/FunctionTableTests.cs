using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Configuration;
using SignalFunctions.Cli;
using SignalFunctions.Hosting;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>The function table is the single source: every route, schedule and function.json comes from it, and nothing else does.</summary>
public sealed class FunctionTableTests
{
    [Fact]
    public async Task Every_http_function_is_one_named_aspnet_route_under_api_and_nothing_else_is_mapped_standalone()
    {
        await using var app = BuildApp(hosted: false);
        var endpoints = Endpoints(app);

        foreach (var function in Functions.Http)
        {
            var endpoint = Assert.Single(endpoints, e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == function.Name);
            Assert.Equal($"/api/{function.Route}", endpoint.RoutePattern.RawText);
            Assert.Equal(function.Methods.Select(m => m.ToUpperInvariant()).Order(), endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Order());
        }
        Assert.Equal(Functions.Http.Count(), endpoints.Count);
    }

    [Fact]
    public async Task Generated_function_json_route_matches_the_same_paths_as_the_aspnet_route()
    {
        await using var app = BuildApp(hosted: false);
        var endpoints = Endpoints(app);

        foreach (var function in Functions.Http)
        {
            var aspnet = endpoints.Single(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == function.Name).RoutePattern;
            var trigger = FunctionsJsonVerb.Render(function)["bindings"]![0]!;
            var host = RoutePatternFactory.Parse("api/" + trigger["route"]!.GetValue<string>());

            Assert.Equal(Shape(aspnet), Shape(host));
            Assert.All(host.Parameters, p => Assert.Empty(p.ParameterPolicies));
            Assert.Equal(function.Methods, trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()).Intersect(function.Methods));
        }
    }

    [Fact]
    public async Task Every_timer_has_a_valid_standalone_schedule_and_a_hosted_invocation_route_named_after_it()
    {
        await using var app = BuildApp(hosted: true);
        var endpoints = Endpoints(app);
        var noSettings = new ConfigurationBuilder().Build();

        foreach (var timer in Functions.Timers)
        {
            Assert.NotNull(StandaloneScheduler.Schedule(timer, noSettings));
            var endpoint = Assert.Single(endpoints, e => e.RoutePattern.RawText == $"/{timer.Name}");
            Assert.Equal(["POST"], endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods);
            Assert.Equal("timerTrigger", FunctionsJsonVerb.Render(timer)["bindings"]![0]!["type"]!.GetValue<string>());
        }
        // Hosted: the same HTTP functions (forwarded with /api), one route per timer, and GET / for the host's poll.
        Assert.Single(endpoints, e => e.RoutePattern.RawText == "/");
        Assert.Equal(Functions.All.Count + 1, endpoints.Count);
    }

    [Fact]
    public async Task Every_http_function_is_reachable_standalone_at_its_table_route()
    {
        var db = await TestDatabase.CreateAsync();
        try
        {
            await using var app = await AppProcess.StartAsync(db.ConnectionString, new Dictionary<string, string>
            {
                ["Ingest__AllowedOrigins__0"] = HostedHandlerFixture.AllowedOrigin,
                ["Clicks__WebhookSecret"] = "table-test-secret",
            });
            foreach (var function in Functions.Http)
            {
                foreach (var method in function.Methods)
                {
                    using var request = FunctionRequests.Sample(function.Route, method, HostedHandlerFixture.AllowedOrigin, method);
                    using var response = await app.Client.SendAsync(request);
                    var status = (int)response.StatusCode;
                    Assert.False(FunctionRequests.MissedTheEndpoint(response.StatusCode), $"{function.Name}: {method} {request.RequestUri} answered {status}");
                    Assert.True(status < 500, $"{function.Name}: {method} {request.RequestUri} answered {status}");
                }
            }
        }
        finally
        {
            await db.DisposeAsync();
        }
    }

    /// <summary>The app as Program.cs wires it, built but not started: no database is touched.</summary>
    private static WebApplication BuildApp(bool hosted)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Signal"] = "Host=127.0.0.1;Database=never_opened",
            [HostingMode.PortVariable] = hosted ? "7999" : null,
        });
        builder.ConfigureHostingMode();
        builder.AddSignalServer();
        var app = builder.Build();
        app.MapFunctions();
        return app;
    }

    private static List<RouteEndpoint> Endpoints(WebApplication app) =>
        ((IEndpointRouteBuilder)app).DataSources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>().ToList();

    /// <summary>Literals and parameter names, segment by segment: what decides which paths a route matches.</summary>
    private static List<string> Shape(RoutePattern pattern) =>
        pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            _ => "?",
        }))).ToList();
}
