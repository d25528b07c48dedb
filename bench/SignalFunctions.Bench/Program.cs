using SignalFunctions.Bench;

// bench/run.sh starts the cluster and builds; this program does the rest (see BENCHMARKS.md).
//   run  --pg CONNSTRING --app DLL --devhost DLL --wrk-script LUA [--seconds 5] ...  the whole benchmark
//   bare --urls URL                                                                  the bare endpoint (d)
return args switch
{
    ["bare", .. var rest] => await BareEndpoint.RunAsync(rest),
    ["run", .. var rest] when BenchSettings.TryParse(rest, out var settings, out var error) =>
        settings is null ? Usage(error) : await BenchRun.RunAsync(settings),
    _ => Usage(null),
};

static int Usage(string? error)
{
    if (error is not null)
    {
        Console.Error.WriteLine($"error: {error}");
    }
    Console.Error.WriteLine("usage: SignalFunctions.Bench run --pg CONNSTRING --app DLL --devhost DLL --wrk-script LUA [options]");
    Console.Error.WriteLine("       SignalFunctions.Bench bare --urls URL");
    Console.Error.WriteLine("options: " + BenchSettings.OptionsHelp);
    return 2;
}
