namespace SignalFunctions.EngineBench;

/// <summary>
/// bench/engine.sh starts the cluster and builds; this program does the rest:
///   SignalFunctions.EngineBench --pg CONNSTRING --app DLL --devhost DLL --work DIR [options]
/// Exits 0 when every check holds and every target is met, 1 otherwise, 2 on a usage error.
/// </summary>
internal static class EngineBenchProgram
{
    private static async Task<int> Main(string[] args)
    {
        if (!EngineBenchSettings.TryParse(args, out var settings, out var error))
        {
            if (error is not null)
            {
                Console.Error.WriteLine($"error: {error}");
            }
            Console.Error.WriteLine("usage: SignalFunctions.EngineBench --pg CONNSTRING --app DLL --devhost DLL --work DIR [options]");
            Console.Error.WriteLine("options: " + EngineBenchSettings.OptionsHelp);
            return 2;
        }
        using var stop = new CancellationTokenSource(settings.Deadline);
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        return await EngineBenchRun.RunAsync(settings, stop.Token);
    }
}
