namespace SignalFunctions.Tests.Infrastructure;

/// <summary>Paths in the repository the tests run from.</summary>
public static class Repo
{
    public static readonly string Root = FindRoot();

#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>The worker's build output (the test project references it): the script root ./run.sh serves.</summary>
    public static string AppOutput => Path.Combine(Root, "src", "SignalFunctions", "bin", Configuration, "net10.0");

    /// <summary>The app, for its ops verbs.</summary>
    public static string AppDll => Path.Combine(AppOutput, "SignalFunctions.dll");

    /// <summary>The development host built by the same build (the test project references it).</summary>
    public static string DevHostDll => Path.Combine(Root, "src", "SignalFunctions.DevHost", "bin", Configuration, "net10.0", "SignalFunctions.DevHost.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SignalFunctions.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Could not find SignalFunctions.sln above " + AppContext.BaseDirectory);
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
