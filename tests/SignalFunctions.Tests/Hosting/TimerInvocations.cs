using System.Net;
using System.Text.Json;

namespace SignalFunctions.Tests.Hosting;

public static class TimerInvocations
{
    /// <summary>Fires a timer as the Functions host does; asserts a successful invocation result and returns its Logs.</summary>
    public static async Task<IReadOnlyList<string>> InvokeTimerForLogsAsync(this FunctionsHostDouble host, string timer)
    {
        using var response = await host.InvokeTimerAsync(timer);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        HostContractTests.AssertInvocationResult(response, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("Logs").EnumerateArray().Select(l => l.GetString()!).ToList();
    }
}
