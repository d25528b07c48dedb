using Grpc.Core;
using SignalFunctions.DevHost.Rpc;

namespace SignalFunctions.DevHost.Worker;

/// <summary>The gRPC server the worker dials (--functions-uri): its one call, EventStream, goes to the channel.</summary>
public sealed class FunctionRpcService(WorkerChannel channel) : FunctionRpc.FunctionRpcBase
{
    public override Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context) =>
        channel.ServeAsync(requestStream, responseStream, context.CancellationToken);
}
