using System.CommandLine;
using System.Text.Json;
using SignalFunctions.Flags;
using SignalFunctions.Stages;

namespace SignalFunctions.Cli;

/// <summary>`flags [--json]`: the effective stage flags, where they come from, and the last-known-good copy.</summary>
public static class FlagsVerb
{
    public sealed record FlagView(string Stage, int Percent, long Version, DateTimeOffset UpdatedAt);

    public sealed record LastKnownGoodView(DateTimeOffset SavedAt, DateTimeOffset LoadedAt, double AgeSeconds);

    public sealed record FlagsView(
        string Source, string? Store, string? Label, string? Etag, double AgeSeconds, LastKnownGoodView? LastKnownGood,
        IReadOnlyDictionary<string, FlagView> Flags, IReadOnlyDictionary<string, string> Rejected, IReadOnlyDictionary<string, string> Settings);

    public static Command Command()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON for machines instead of text." };
        var command = new Command("flags", """
            Show the effective stage flags: their source (embedded, app-configuration, or last-known-good when
            App Configuration is unreachable), label, etag, snapshot age, the last-known-good copy in PostgreSQL,
            flags rejected as invalid (they keep their previous value), and the SignalFunctions: settings.
            """) { json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var view = await ReadAsync(services, ct);
            if (parsed.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(view, new JsonSerializerOptions
                {
                    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                    WriteIndented = true,
                }));
                return 0;
            }
            Print(view);
            return 0;
        });
        return command;
    }

    private static async Task<FlagsView> ReadAsync(IServiceProvider services, CancellationToken ct)
    {
        var clock = services.GetRequiredService<TimeProvider>();
        var appConfiguration = services.GetService<AppConfigurationFlagStore>();
        var snapshot = await services.GetRequiredService<IStageFlagStore>().LoadAsync(ct);
        LastKnownGoodView? lastKnownGood = null;
        if (appConfiguration is not null &&
            await services.GetRequiredService<LastKnownGood>().LoadAsync(appConfiguration.Endpoint, appConfiguration.Label, ct) is { } saved)
        {
            lastKnownGood = new LastKnownGoodView(saved.SavedAt, saved.Snapshot.LoadedAt,
                Math.Round((clock.GetUtcNow() - saved.Snapshot.LoadedAt).TotalSeconds, 1));
        }
        return new FlagsView(
            snapshot.Source, appConfiguration?.Endpoint.ToString(), snapshot.Label, snapshot.ETag,
            Math.Round((clock.GetUtcNow() - snapshot.LoadedAt).TotalSeconds, 1), lastKnownGood,
            snapshot.Flags.OrderBy(f => f.Key, StringComparer.Ordinal)
                .ToDictionary(f => f.Key, f => new FlagView(f.Value.Stage.Name(), f.Value.Percent, f.Value.Version, f.Value.UpdatedAt)),
            snapshot.Rejected, snapshot.Settings);
    }

    private static void Print(FlagsView view)
    {
        Console.WriteLine($"source:          {view.Source}{(view.Store is null ? "" : $" ({view.Store})")}");
        if (view.Store is not null)
        {
            Console.WriteLine($"label:           {view.Label ?? "(no label)"}");
            Console.WriteLine($"etag:            {(string.IsNullOrEmpty(view.Etag) ? "-" : view.Etag)}");
        }
        Console.WriteLine($"snapshot age:    {view.AgeSeconds:0.0} s");
        if (view.Store is not null)
        {
            Console.WriteLine(view.LastKnownGood is { } lkg
                ? $"last-known-good: saved {lkg.SavedAt:u}, flags as of {lkg.LoadedAt:u} ({lkg.AgeSeconds:0} s ago)"
                : "last-known-good: none yet (a running instance saves every snapshot it applies)");
        }
        Console.WriteLine();
        Console.WriteLine($"{"MIGRATION",-16}{"STAGE",-12}{"ROLLOUT",-26}{"VERSION",-16}UPDATED");
        foreach (var (migration, flag) in view.Flags)
        {
            StageRules.TryParse(flag.Stage, out var stage);
            var rollout = flag.Percent >= 100 ? "100%" : $"{flag.Percent}% (rest {stage.Previous().Name()})";
            Console.WriteLine($"{migration,-16}{flag.Stage,-12}{rollout,-26}{flag.Version,-16}{flag.UpdatedAt:u}");
        }
        foreach (var missing in KnownMigrations.Names.Where(m => !view.Flags.ContainsKey(m)))
        {
            Console.WriteLine($"{missing,-16}(no flag: ingest for it answers 503; set one with ./run.sh stage {missing} off)");
        }
        foreach (var (key, reason) in view.Rejected)
        {
            Console.WriteLine($"rejected: {key}: {reason}");
        }
        foreach (var (key, value) in view.Settings.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            Console.WriteLine($"setting:  {key} = {value}");
        }
    }
}
