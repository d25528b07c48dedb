using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace SignalFunctions.Tests.Hosting;

/// <summary>A harmless request for each method of a route: enough to reach the endpoint, never valid enough to write.</summary>
public static partial class FunctionRequests
{
    /// <summary>"/api/" + route with every {parameter} (constraint or not) filled with a fresh GUID.</summary>
    public static string SamplePath(string route) =>
        "/api/" + RouteParameter().Replace(route, _ => Guid.NewGuid().ToString());

    public static HttpRequestMessage Sample(string route, string method, string origin, string preflightFor)
    {
        var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), SamplePath(route));
        switch (method)
        {
            case "options":
                request.Headers.Add("Origin", origin);
                request.Headers.Add("Access-Control-Request-Method", preflightFor.ToUpperInvariant());
                break;
            case "post":
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                break;
        }
        return request;
    }

    /// <summary>Routing found no endpoint, or none for this method.</summary>
    public static bool MissedTheEndpoint(HttpStatusCode status) =>
        status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed;

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
