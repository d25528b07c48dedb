using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace SignalFunctions.Hosting;

/// <summary>
/// Anything unforeseen in an HTTP function still answers problem+json 500 and is logged, as
/// UseExceptionHandler with AddProblemDetails did: never an empty 500. A cancelled request, a
/// response already under way and every timer are left to the worker, so the host records the failure.
/// </summary>
public sealed partial class UnhandledExceptionMiddleware(ILogger<UnhandledExceptionMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (context.GetHttpContext() is { Response.HasStarted: false } http
                                   && !(ex is OperationCanceledException && (http.RequestAborted.IsCancellationRequested || context.CancellationToken.IsCancellationRequested)))
        {
            LogUnhandled(ex, context.FunctionDefinition.Name);
            http.Response.Clear();
            // Written by the ProblemDetails service (AddProblemDetails): type, title, status and traceId.
            context.GetInvocationResult().Value = TypedResults.Problem(statusCode: StatusCodes.Status500InternalServerError);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Function {Function} failed with an unhandled exception; answered 500")]
    private partial void LogUnhandled(Exception exception, string function);
}
