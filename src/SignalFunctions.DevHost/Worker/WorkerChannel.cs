using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using SignalFunctions.DevHost.Rpc;

namespace SignalFunctions.DevHost.Worker;

/// <summary>
/// The host's end of the worker's EventStream: one outbound queue, and each answer the host waits
/// for matched to its request (init, metadata, one load per function, one response per invocation).
/// </summary>
public sealed partial class WorkerChannel(string workerId, ILogger<WorkerChannel> logger)
{
    private readonly Channel<StreamingMessage> _outbound = Channel.CreateUnbounded<StreamingMessage>();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _waiting = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string WorkerId { get; } = workerId;

    /// <summary>Completes when the worker has opened its stream and said who it is.</summary>
    public Task Connected => _connected.Task;

    /// <summary>Runs for as long as the worker keeps its stream open (called by the gRPC service).</summary>
    public async Task ServeAsync(IAsyncStreamReader<StreamingMessage> fromWorker, IServerStreamWriter<StreamingMessage> toWorker, CancellationToken ct)
    {
        if (!await fromWorker.MoveNext(ct) || fromWorker.Current.StartStream is not { } start)
        {
            throw new Grpc.Core.RpcException(new Status(StatusCode.InvalidArgument, "The first message on the stream must be StartStream."));
        }
        if (start.WorkerId != WorkerId)
        {
            throw new Grpc.Core.RpcException(new Status(StatusCode.PermissionDenied, $"Unknown worker id '{start.WorkerId}'."));
        }
        if (!_connected.TrySetResult())
        {
            throw new Grpc.Core.RpcException(new Status(StatusCode.AlreadyExists, "This worker already has a stream open."));
        }
        var writing = WriteAllAsync(toWorker, ct);
        try
        {
            while (await fromWorker.MoveNext(ct))
            {
                Receive(fromWorker.Current);
            }
        }
        finally
        {
            _outbound.Writer.TryComplete();
            foreach (var waiter in _waiting.Values)
            {
                waiter.TrySetException(new DevHostException("The worker closed its stream."));
            }
            await writing;
        }
    }

    private async Task WriteAllAsync(IServerStreamWriter<StreamingMessage> toWorker, CancellationToken ct)
    {
        try
        {
            var buffered = new WriteOptions(WriteFlags.BufferHint);
            await foreach (var message in _outbound.Reader.ReadAllAsync(ct))
            {
                // Under load many invocations queue at once: flush once for all of them, not once each.
                toWorker.WriteOptions = _outbound.Reader.Count > 0 ? buffered : null;
                await toWorker.WriteAsync(message, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Receive(StreamingMessage message)
    {
        var key = message.ContentCase switch
        {
            StreamingMessage.ContentOneofCase.WorkerInitResponse => InitKey,
            StreamingMessage.ContentOneofCase.FunctionMetadataResponse => MetadataKey,
            StreamingMessage.ContentOneofCase.FunctionLoadResponse => LoadKey(message.FunctionLoadResponse.FunctionId),
            StreamingMessage.ContentOneofCase.InvocationResponse => InvocationKey(message.InvocationResponse.InvocationId),
            _ => null,
        };
        if (message.RpcLog is { } log)
        {
            Log(log);
        }
        else if (key is not null && _waiting.TryRemove(key, out var waiter))
        {
            waiter.TrySetResult(message);
        }
        else
        {
            LogUnexpected(message.ContentCase.ToString());
        }
    }

    private const string InitKey = "init";
    private const string MetadataKey = "metadata";
    private static string LoadKey(string functionId) => "load:" + functionId;
    private static string InvocationKey(string invocationId) => "invocation:" + invocationId;

    private async Task<StreamingMessage> RequestAsync(string key, StreamingMessage request, CancellationToken ct)
    {
        var answer = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_waiting.TryAdd(key, answer))
        {
            throw new InvalidOperationException($"A request '{key}' is already waiting for its answer.");
        }
        request.RequestId = Guid.NewGuid().ToString();
        if (!_outbound.Writer.TryWrite(request))
        {
            _waiting.TryRemove(key, out _);
            throw new DevHostException("The worker's stream is closed.");
        }
        using var registration = ct.Register(() =>
        {
            if (_waiting.TryRemove(key, out var waiter))
            {
                waiter.TrySetCanceled(ct);
            }
        });
        return await answer.Task;
    }

    public async Task<WorkerInitResponse> InitializeAsync(WorkerInitRequest request, CancellationToken ct) =>
        (await RequestAsync(InitKey, new StreamingMessage { WorkerInitRequest = request }, ct)).WorkerInitResponse;

    public async Task<FunctionMetadataResponse> GetMetadataAsync(string functionAppDirectory, CancellationToken ct) =>
        (await RequestAsync(MetadataKey, new StreamingMessage { FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = functionAppDirectory } }, ct)).FunctionMetadataResponse;

    public async Task<FunctionLoadResponse> LoadAsync(FunctionLoadRequest request, CancellationToken ct) =>
        (await RequestAsync(LoadKey(request.FunctionId), new StreamingMessage { FunctionLoadRequest = request }, ct)).FunctionLoadResponse;

    /// <summary>Sends one invocation and waits for its response; cancelling sends InvocationCancel, and the worker still answers.</summary>
    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken ct)
    {
        var answer = RequestAsync(InvocationKey(request.InvocationId), new StreamingMessage { InvocationRequest = request }, CancellationToken.None);
        using (ct.Register(() => _outbound.Writer.TryWrite(new StreamingMessage { InvocationCancel = new InvocationCancel { InvocationId = request.InvocationId } })))
        {
            return (await answer).InvocationResponse;
        }
    }

    /// <summary>The host's word before it stops the worker; the worker answers nothing.</summary>
    public void Terminate(TimeSpan grace) =>
        _outbound.Writer.TryWrite(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(grace) } });

    private void Log(RpcLog log)
    {
        var level = log.Level switch
        {
            RpcLog.Types.Level.Trace => LogLevel.Trace,
            RpcLog.Types.Level.Debug => LogLevel.Debug,
            RpcLog.Types.Level.Information => LogLevel.Information,
            RpcLog.Types.Level.Warning => LogLevel.Warning,
            RpcLog.Types.Level.Error => LogLevel.Error,
            RpcLog.Types.Level.Critical => LogLevel.Critical,
            _ => LogLevel.None,
        };
        // The app's own logs reach us twice, over the stream and on the worker's console, which is
        // passed through: here only the worker's own warnings (e.g. a function that did not load).
        if (level >= LogLevel.Warning && log.LogCategory == RpcLog.Types.RpcLogCategory.System)
        {
            LogFromWorker(level, log.Category, log.Message, log.Exception?.Message ?? "");
        }
    }

    [LoggerMessage(Message = "Worker [{Category}] {Message} {Exception}")]
    private partial void LogFromWorker(LogLevel level, string category, string message, string exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Worker sent {Content}, which nothing waited for")]
    private partial void LogUnexpected(string content);
}
