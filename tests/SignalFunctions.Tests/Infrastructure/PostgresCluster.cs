using System.Diagnostics;
using Npgsql;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster made with the machine's initdb and pg_ctl (as the postgres user
/// when the tests run as root, since both refuse root). Fault tests start their own to stop and
/// restart; everything else shares <see cref="SharedPostgres"/>.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string _bin;

    public string DataDirectory { get; }
    public int Port { get; }
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=5";

    private PostgresCluster(string bin, string dataDirectory, int port)
    {
        _bin = bin;
        DataDirectory = dataDirectory;
        Port = port;
    }

    public static async Task<PostgresCluster> StartNewAsync()
    {
        var bin = FindBinaries();
        var dir = Path.Combine(Path.GetTempPath(), $"signal-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        if (IsRoot)
        {
            await RunAsync("chown", ["postgres:postgres", dir]);
        }
        var cluster = new PostgresCluster(bin, dir, Repo.FreePort());
        await cluster.AsOwnerAsync("initdb", ["-D", dir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]);
        await File.AppendAllTextAsync(Path.Combine(dir, "postgresql.conf"), $"""

            listen_addresses = '127.0.0.1'
            port = {cluster.Port}
            unix_socket_directories = '{dir}'
            max_connections = 300
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            """);
        await cluster.StartAsync();
        return cluster;
    }

    public Task StartAsync() => AsOwnerAsync("pg_ctl", ["-D", DataDirectory, "-l", Path.Combine(DataDirectory, "server.log"), "-w", "-t", "60", "start"]);

    public async Task StopAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await AsOwnerAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await AsOwnerAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped by the test.
        }
        Directory.Delete(DataDirectory, recursive: true);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private Task AsOwnerAsync(string tool, string[] args) =>
        IsRoot
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args])
            : RunAsync(Path.Combine(_bin, tool), args);

    private static string FindBinaries()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).OrderDescending()
            : Enumerable.Empty<string>();
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            ?? throw new InvalidOperationException("No PostgreSQL binaries under /usr/lib/postgresql; ./test.sh installs them.");
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await error}{await output}");
        }
    }
}
