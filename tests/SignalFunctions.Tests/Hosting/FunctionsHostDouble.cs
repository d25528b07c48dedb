using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>
/// Plays the Azure Functions host against the packaged custom handler, as AZURE.md describes it
/// (and as the host's DefaultHttpWorkerService does it): starts the executable from the package
/// folder with the host's environment, polls GET / until any HTTP answer comes, forwards HTTP
/// requests unchanged to /api/…, and POSTs timer invocation payloads to /{FunctionName}.
/// </summary>
public sealed class FunctionsHostDouble : IAsyncDisposable
{
    public const string HostVersion = "4.1037.1.1";

    public AppProcess Handler { get; }

    /// <summary>The port an inherited ASPNETCORE_URLS asked for; the handler must not listen there.</summary>
    public int DecoyPort { get; }

    /// <summary>From process start until the handler answered GET /.</summary>
    public TimeSpan StartupTime { get; }

    private FunctionsHostDouble(AppProcess handler, int decoyPort, TimeSpan startupTime)
    {
        Handler = handler;
        DecoyPort = decoyPort;
        StartupTime = startupTime;
    }

    public int Port => Handler.Port;

    /// <summary>Starts the handler with the app settings the Function App would have.</summary>
    public static async Task<FunctionsHostDouble> StartAsync(FunctionPackage package, IDictionary<string, string> appSettings)
    {
        var port = Repo.FreePort();
        var decoyPort = Repo.FreePort();
        var workerId = Guid.NewGuid().ToString();
        var start = new ProcessStartInfo(package.Executable) { WorkingDirectory = package.Folder };
        foreach (var (key, value) in appSettings)
        {
            start.Environment[key] = value;
        }
        // What the host adds for the worker process (HttpWorkerProcess.CreateWorkerProcess).
        start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["FUNCTIONS_CUSTOMHANDLER_WORKER_ID"] = workerId;
        start.Environment["FUNCTIONS_HTTPWORKER_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["FUNCTIONS_HTTPWORKER_ID"] = workerId;
        // Inherited from the host's own environment; explicit binding to the port must win over it.
        start.Environment["ASPNETCORE_URLS"] = $"http://0.0.0.0:{decoyPort}";

        var watch = Stopwatch.StartNew();
        var handler = await AppProcess.StartAsync(start, port, "/");
        return new FunctionsHostDouble(handler, decoyPort, watch.Elapsed);
    }

    /// <summary>
    /// An HTTP function whose bindings are one httpTrigger and one http output, with forwarding on:
    /// the original method, path (with /api), query, headers and body, plus the host's own headers.
    /// </summary>
    public Task<HttpResponseMessage> ForwardAsync(HttpRequestMessage original)
    {
        var uri = original.RequestUri!;
        var forwarded = new HttpRequestMessage(original.Method, new Uri(Handler.BaseAddress, uri.IsAbsoluteUri ? uri.PathAndQuery : uri.OriginalString))
        {
            Content = original.Content,
        };
        foreach (var header in original.Headers)
        {
            forwarded.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        AddHostHeaders(forwarded);
        return Handler.Client.SendAsync(forwarded);
    }

    /// <summary>A timer trigger firing: the invocation payload of AZURE.md, POSTed to /{FunctionName}.</summary>
    public Task<HttpResponseMessage> InvokeTimerAsync(string functionName, bool withScheduleStatus = true)
    {
        var now = DateTime.UtcNow;
        object? scheduleStatus = withScheduleStatus
            ? new { Last = now.AddMinutes(-5).ToString("O"), Next = now.AddMinutes(5).ToString("O"), LastUpdated = now.AddMinutes(-5).ToString("O") }
            : null;
        var payload = new
        {
            Data = new
            {
                timer = new { Schedule = new { AdjustForDST = true }, ScheduleStatus = scheduleStatus, IsPastDue = false },
            },
            Metadata = new
            {
                sys = new { MethodName = functionName, UtcNow = now.ToString("O"), RandGuid = Guid.NewGuid().ToString() },
            },
        };
        var request = new HttpRequestMessage(HttpMethod.Post, $"/{functionName}")
        {
            Content = new StringContent(JsonSerializer.Serialize(payload), Encoding.UTF8, "application/json"),
        };
        AddHostHeaders(request);
        return Handler.Client.SendAsync(request);
    }

    private static void AddHostHeaders(HttpRequestMessage request)
    {
        request.Headers.Add("X-Azure-Functions-HostVersion", HostVersion);
        request.Headers.Add("X-Azure-Functions-InvocationId", Guid.NewGuid().ToString());
        request.Headers.UserAgent.ParseAdd($"Azure-Functions-Host/{HostVersion}");
    }

    public ValueTask DisposeAsync() => Handler.DisposeAsync();
}
