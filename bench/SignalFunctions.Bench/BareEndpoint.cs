using System.Buffers;

namespace SignalFunctions.Bench;

/// <summary>
/// Limit (d): the cheapest answer Kestrel can give to the same requests. It reads each body to the
/// end and discards it, then answers 202 with a receipt of the app's shape. No parsing, no
/// database: what is left is HTTP over loopback, which the app can never beat.
/// </summary>
public static class BareEndpoint
{
    private static readonly byte[] Receipt = """{"accepted":0,"duplicates":0}"""u8.ToArray();

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        var app = builder.Build();
        app.MapPost("/api/signal/events", DiscardAsync);
        await app.RunAsync();
        return 0;
    }

    private static async Task DiscardAsync(HttpContext context)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (await context.Request.Body.ReadAsync(buffer, context.RequestAborted) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = Receipt.Length;
        await context.Response.Body.WriteAsync(Receipt, context.RequestAborted);
    }
}
