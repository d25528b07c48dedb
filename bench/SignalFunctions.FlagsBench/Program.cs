// bench/flags.sh runs this: for each mode (embedded store, App Configuration polling, App
// Configuration with the Event Grid push), two app processes on one database; each round writes
// the signal-events flag (off <-> complete) and times, on each instance, the first ingest write
// that follows the new stage (the event lands only in the table that stage writes).
if (args.Contains("--eval"))
{
    await EvalBench.RunAsync();
    return;
}
var options = Args.Parse(args);
var results = new List<(string Mode, string Target, List<double> A, List<double> B)>();
foreach (var mode in new[] { "embedded", "polling", "push" })
{
    results.Add(await Bench.RunAsync(mode, options));
}
Console.WriteLine();
Console.WriteLine($"{options.Rounds} rounds per mode, two instances, Flags__RefreshSeconds={options.RefreshSeconds} (polling); {Environment.ProcessorCount} cores");
Console.WriteLine($"{"mode",-10}{"instance",-10}{"median ms",12}{"max ms",10}   target");
foreach (var (mode, target, a, b) in results)
{
    foreach (var (name, times) in new[] { ("A", a), ("B", b) })
    {
        times.Sort();
        Console.WriteLine($"{mode,-10}{name,-10}{times[times.Count / 2],12:0}{times[^1],10:0}   {target}");
    }
}
