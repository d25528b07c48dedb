using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>
/// The Functions host ↔ custom handler contract of AZURE.md, played against the packaged
/// executable: start-up, binding, forwarded HTTP requests and timer invocation payloads.
/// </summary>
public sealed class HostContractTests(HostedHandlerFixture fixture) : IClassFixture<HostedHandlerFixture>
{
    private FunctionsHostDouble Host => fixture.Host;

    [Fact]
    public async Task Handler_answers_the_hosts_readiness_poll_on_GET_root_within_60_s()
    {
        Assert.True(fixture.Host.StartupTime < TimeSpan.FromSeconds(60), $"GET / answered after {fixture.Host.StartupTime}");
        using var response = await Host.Handler.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Handler_listens_on_loopback_at_the_custom_handler_port_only_whatever_ASPNETCORE_URLS_says()
    {
        var listening = ListeningEndpoints(Host.Handler.ProcessId);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, Host.Port)], listening);

        Assert.False(await AcceptsConnectionAsync(IPAddress.Loopback, Host.DecoyPort), "the inherited ASPNETCORE_URLS port answered");
        var otherAddresses = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => !IPAddress.IsLoopback(a) && a.AddressFamily == AddressFamily.InterNetwork);
        foreach (var address in otherAddresses)
        {
            Assert.False(await AcceptsConnectionAsync(address, Host.Port), $"the handler port answered on {address}");
        }
    }

    [Fact]
    public async Task Forwarded_ingest_request_gets_202_after_the_row_is_committed()
    {
        var e = Events.Signal();
        var path = "/api/signal/events?utm_source=newsletter&code=function-key-from-query";
        // As a browser's sendBeacon reaches the Function App, and the host forwards it: original
        // method, path, query, headers (the key and the front end's X-Forwarded-For included), body.
        var original = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri("https://signalfunctions.azurewebsites.net"), path))
        {
            Content = new StringContent(Events.Json(e), Encoding.UTF8, "text/plain"),
        };
        original.Headers.TryAddWithoutValidation("Host", "signalfunctions.azurewebsites.net");
        original.Headers.Add("Origin", HostedHandlerFixture.AllowedOrigin);
        original.Headers.Add("x-functions-key", "function-key-from-header");
        original.Headers.Add("X-Forwarded-For", "203.0.113.7:51234");
        original.Headers.Add("X-Forwarded-Proto", "https");
        original.Headers.Add("X-Original-URL", path);
        original.Headers.Add("X-ARR-LOG-ID", Guid.NewGuid().ToString());
        original.Headers.UserAgent.ParseAdd("Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0");

        using var response = await Host.ForwardAsync(original);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var receipt = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, receipt.GetProperty("accepted").GetInt32());
        Assert.Equal(HostedHandlerFixture.AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(1L, await fixture.Db.ScalarAsync<long>(
            "SELECT count(*) FROM blog_attribution_events WHERE id = @id AND metadata->>'signal_id' = @sid",
            new { id = (Guid)e["id"]!, sid = e["signal_id"]!.ToString() }));
        Assert.Equal(0L, await fixture.Db.ScalarAsync<long>(
            "SELECT count(*) FROM blog_attribution_events b WHERE row_to_json(b)::text LIKE '%203.0.113.7%'"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // ScheduleStatus is null on a first run, or with useMonitor off.
    public async Task Timer_invocation_payload_gets_200_with_a_non_empty_invocation_result(bool withScheduleStatus)
    {
        using var response = await Host.InvokeTimerAsync("Repair", withScheduleStatus);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertInvocationResult(response, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Every_generated_function_json_route_reaches_its_endpoint_when_forwarded()
    {
        foreach (var (name, route, methods) in GeneratedHttpFunctions(fixture.Package))
        {
            foreach (var method in methods)
            {
                using var request = FunctionRequests.Sample(route, method, HostedHandlerFixture.AllowedOrigin, methods[0]);
                using var response = await Host.ForwardAsync(request);
                var status = response.StatusCode;
                Assert.False(FunctionRequests.MissedTheEndpoint(status), $"{name}: {method} {request.RequestUri} answered {(int)status}");
                Assert.True((int)status < 500, $"{name}: {method} {request.RequestUri} answered {(int)status}");
                if (method == "options")
                {
                    Assert.True(response.Headers.Contains("Access-Control-Allow-Origin"), $"{name}: preflight without CORS headers");
                }
            }
        }
        Assert.False(Host.Handler.HasExited);
    }

    /// <summary>The shape the host reads back (HttpScriptInvocationResult); a non-2xx answer must keep it too.</summary>
    internal static void AssertInvocationResult(HttpResponseMessage response, string body)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace(body), "an empty body hangs the invocation until the function timeout");
        var result = JsonDocument.Parse(body).RootElement;
        Assert.Equal(JsonValueKind.Object, result.GetProperty("Outputs").ValueKind);
        Assert.Empty(result.GetProperty("Outputs").EnumerateObject());
        var logs = result.GetProperty("Logs");
        Assert.Equal(JsonValueKind.Array, logs.ValueKind);
        Assert.NotEmpty(logs.EnumerateArray());
        Assert.All(logs.EnumerateArray(), line => Assert.Equal(JsonValueKind.String, line.ValueKind));
        Assert.Equal(JsonValueKind.Null, result.GetProperty("ReturnValue").ValueKind);
    }

    private static IEnumerable<(string Name, string Route, string[] Methods)> GeneratedHttpFunctions(FunctionPackage package)
    {
        foreach (var folder in Directory.GetDirectories(package.Folder))
        {
            var trigger = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "function.json"))).RootElement
                .GetProperty("bindings")[0];
            if (trigger.GetProperty("type").GetString() == "httpTrigger")
            {
                yield return (Path.GetFileName(folder), trigger.GetProperty("route").GetString()!,
                    [.. trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!)]);
            }
        }
    }

    private static async Task<bool> AcceptsConnectionAsync(IPAddress address, int port)
    {
        using var client = new TcpClient(address.AddressFamily);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await client.ConnectAsync(address, port, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The TCP sockets in LISTEN state that the process holds, read from /proc.</summary>
    private static List<IPEndPoint> ListeningEndpoints(int pid)
    {
        var inodes = new HashSet<string>();
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            var target = new FileInfo(fd).LinkTarget;
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
            {
                inodes.Add(target["socket:[".Length..^1]);
            }
        }
        var listening = new List<IPEndPoint>();
        foreach (var table in new[] { "tcp", "tcp6" })
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/net/{table}").Skip(1))
            {
                // sl local_address rem_address st … inode; st 0A is LISTEN.
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields[3] == "0A" && inodes.Contains(fields[9]))
                {
                    var local = fields[1].Split(':');
                    listening.Add(new IPEndPoint(ProcAddress(local[0]), Convert.ToInt32(local[1], 16)));
                }
            }
        }
        return listening;
    }

    /// <summary>/proc/net/tcp{,6} print addresses as 32-bit words in host (little-endian) order.</summary>
    private static IPAddress ProcAddress(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        for (var word = 0; word < bytes.Length; word += 4)
        {
            Array.Reverse(bytes, word, 4);
        }
        return new IPAddress(bytes);
    }
}
