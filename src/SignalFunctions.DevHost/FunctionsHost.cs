using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SignalFunctions.DevHost.Rpc;
using SignalFunctions.DevHost.Settings;
using SignalFunctions.DevHost.Worker;

namespace SignalFunctions.DevHost;

/// <summary>
/// The Functions host's side of the host↔worker contract, for one worker: a gRPC server on
/// loopback, the worker process started from worker.config.json, then StartStream →
/// WorkerInitRequest → FunctionsMetadataRequest → one FunctionLoadRequest per function. After that,
/// invocations; HTTP requests themselves go to the worker's HttpUri (ASP.NET Core integration).
/// </summary>
public sealed partial class FunctionsHost : IAsyncDisposable
{
    /// <summary>The host version we speak for (sent in WorkerInitRequest).</summary>
    public const string HostVersion = "4.1044.400.1";

    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(120);

    private readonly WebApplication _rpcServer;
    private readonly WorkerChannel _channel;
    private readonly WorkerProcess _worker;
    private readonly ILogger _logger;

    private FunctionsHost(WebApplication rpcServer, WorkerChannel channel, WorkerProcess worker, ILogger logger)
    {
        _rpcServer = rpcServer;
        _channel = channel;
        _worker = worker;
        _logger = logger;
    }

    public string ScriptRoot { get; private init; } = "";
    public AppSettings Settings { get; private init; } = null!;
    public string RoutePrefix { get; private set; } = "api";
    public IReadOnlyList<FunctionInfo> Functions { get; private set; } = [];
    public IReadOnlyDictionary<string, string> WorkerCapabilities { get; private set; } = new Dictionary<string, string>();

    /// <summary>Where the worker's ASP.NET Core integration listens for forwarded HTTP requests.</summary>
    public Uri WorkerHttpUri { get; private set; } = null!;

    public int WorkerProcessId => _worker.Id;

    /// <summary>Completes when the worker process exits, for whatever reason.</summary>
    public Task WorkerExited => _worker.Exited;

    public int? WorkerExitCode => _worker.ExitCode;

    public FunctionInfo? Find(string name) => Functions.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <param name="scriptRoot">The worker's build or publish output: worker.config.json, host.json, the app.</param>
    public static async Task<FunctionsHost> StartAsync(string scriptRoot, AppSettings settings, ILoggerFactory loggers, Action<string> workerOutput, CancellationToken ct)
    {
        scriptRoot = Path.GetFullPath(scriptRoot);
        var config = WorkerConfig.Read(scriptRoot);
        var logger = loggers.CreateLogger<FunctionsHost>();
        var workerId = Guid.NewGuid().ToString();
        var channel = new WorkerChannel(workerId, loggers.CreateLogger<WorkerChannel>());

        var rpcBuilder = WebApplication.CreateSlimBuilder();
        rpcBuilder.Logging.ClearProviders();
        rpcBuilder.Services.AddSingleton(channel);
        rpcBuilder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null;
            o.MaxSendMessageSize = null;
        });
        // The worker dials plain-text HTTP/2 (h2c), which Kestrel serves only on an HTTP/2-only endpoint.
        rpcBuilder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        var rpcServer = rpcBuilder.Build();
        rpcServer.MapGrpcService<FunctionRpcService>();
        await rpcServer.StartAsync(ct);
        var rpcUri = new Uri(rpcServer.Urls.Single());

        var worker = WorkerProcess.Start(scriptRoot, config, settings, rpcUri, workerId, workerOutput);
        var host = new FunctionsHost(rpcServer, channel, worker, logger) { ScriptRoot = scriptRoot, Settings = settings };
        try
        {
            await host.InitializeAsync(ct);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    private async Task InitializeAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(StartupTimeout);
        var connected = await Task.WhenAny(_channel.Connected, _worker.Exited, Task.Delay(Timeout.Infinite, timeout.Token).ContinueWith(_ => { }, TaskScheduler.Default));
        ct.ThrowIfCancellationRequested();
        if (connected != _channel.Connected)
        {
            throw new DevHostException(_worker.ExitCode is { } code
                ? $"The worker exited with code {code} before it connected (its output is above)."
                : $"The worker did not connect within {StartupTimeout.TotalSeconds:0} s.");
        }

        var init = await UntilWorkerExitsAsync(_channel.InitializeAsync(new WorkerInitRequest
        {
            HostVersion = HostVersion,
            WorkerDirectory = ScriptRoot,
            FunctionAppDirectory = ScriptRoot,
        }, timeout.Token));
        Fail(init.Result, "initialize");
        WorkerCapabilities = new Dictionary<string, string>(init.Capabilities);
        if (!init.Capabilities.TryGetValue("HttpUri", out var httpUri))
        {
            throw new DevHostException("The worker did not advertise an HttpUri: it must use the ASP.NET Core integration (ConfigureFunctionsWebApplication).");
        }
        WorkerHttpUri = new Uri(httpUri);
        RoutePrefix = ReadRoutePrefix(ScriptRoot);

        var metadata = await UntilWorkerExitsAsync(_channel.GetMetadataAsync(ScriptRoot, timeout.Token));
        Fail(metadata.Result, "index its functions");
        if (metadata.UseDefaultMetadataIndexing)
        {
            throw new DevHostException("The worker asked for host indexing (function.json files); this host serves worker-indexed apps only.");
        }
        var functions = new List<FunctionInfo>();
        foreach (var function in metadata.FunctionMetadataResults)
        {
            Fail(function.Status, $"index {function.Name}");
            if (string.IsNullOrEmpty(function.FunctionId))
            {
                function.FunctionId = Guid.NewGuid().ToString();
            }
            functions.Add(FunctionInfo.From(function, Settings.Resolve));
        }
        // One load request per function: the 2.x worker has no handler for FunctionLoadRequestCollection.
        foreach (var function in metadata.FunctionMetadataResults)
        {
            var load = await UntilWorkerExitsAsync(_channel.LoadAsync(new FunctionLoadRequest { FunctionId = function.FunctionId, Metadata = FunctionInfo.ForLoad(function) }, timeout.Token));
            Fail(load.Result, $"load {function.Name}");
        }
        Functions = functions;
        LogLoaded(functions.Count, string.Join(", ", functions.Select(f => f.Name)));
    }

    private async Task<T> UntilWorkerExitsAsync<T>(Task<T> answer)
    {
        if (await Task.WhenAny(answer, _worker.Exited) != answer)
        {
            throw new DevHostException($"The worker exited with code {_worker.ExitCode} during start-up (its output is above).");
        }
        return await answer;
    }

    private static void Fail(StatusResult? result, string what)
    {
        if (result is not null && result.Status != StatusResult.Types.Status.Success)
        {
            throw new DevHostException($"The worker could not {what}: {result.Exception?.Message ?? result.Result}");
        }
    }

    private static string ReadRoutePrefix(string scriptRoot)
    {
        var path = Path.Combine(scriptRoot, "host.json");
        if (!File.Exists(path))
        {
            return "api";
        }
        using var hostJson = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return hostJson.RootElement.TryGetProperty("extensions", out var extensions)
            && extensions.TryGetProperty("http", out var http)
            && http.TryGetProperty("routePrefix", out var prefix)
            && prefix.ValueKind == JsonValueKind.String
                ? prefix.GetString()!.Trim('/')
                : "api";
    }

    /// <summary>An invocation as the host makes it: trace context always set (the worker requires it), the trigger's input, its metadata.</summary>
    public static InvocationRequest NewInvocation(FunctionInfo function, string invocationId)
    {
        var request = new InvocationRequest
        {
            InvocationId = invocationId,
            FunctionId = function.FunctionId,
            TraceContext = new RpcTraceContext { TraceParent = System.Diagnostics.Activity.Current?.Id ?? NewTraceParent() },
        };
        request.TriggerMetadata["sys"] = Json(new Dictionary<string, string>
        {
            ["MethodName"] = function.Name,
            ["UtcNow"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["RandGuid"] = Guid.NewGuid().ToString(),
        });
        return request;
    }

    public static TypedData Json<T>(T value) => new() { Json = JsonSerializer.Serialize(value) };

    private static string NewTraceParent() =>
        $"00-{System.Diagnostics.ActivityTraceId.CreateRandom()}-{System.Diagnostics.ActivitySpanId.CreateRandom()}-00";

    public Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken ct) => _channel.InvokeAsync(request, ct);

    /// <summary>Stops the worker as the platform does: the terminate message, then SIGTERM, then a kill after the grace period.</summary>
    public async Task StopWorkerAsync(TimeSpan grace)
    {
        _channel.Terminate(grace);
        await _worker.StopAsync(grace);
    }

    public async ValueTask DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _rpcServer.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker loaded {Count} functions: {Names}")]
    private partial void LogLoaded(int count, string names);
}
