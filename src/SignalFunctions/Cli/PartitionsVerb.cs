using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SignalFunctions.Partitions;

namespace SignalFunctions.Cli;

/// <summary>`partitions list|ensure|convert`: signal_events' time partitions.</summary>
public static class PartitionsVerb
{
    public static Command Command()
    {
        var command = new Command("partitions", """
            signal_events' time partitions (Events__PartitionMonths months each, UTC, on created_at). See
            docs/partitions.md.
            """);
        command.Subcommands.Add(List());
        command.Subcommands.Add(Ensure());
        command.Subcommands.Add(Convert());
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON for machines instead of a table." };
        var command = new Command("list", """
            List signal_events' partitions, oldest first: name, range, estimated rows and size. MINVALUE is the
            history partition, holding everything older than partitioning. Prints a note when signal_events is
            still a plain table.
            """) { json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            var partitions = await services.GetRequiredService<EventPartitions>().ListAsync(ct);
            if (parsed.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(partitions, new JsonSerializerOptions
                {
                    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                    WriteIndented = true,
                }));
                return 0;
            }
            if (partitions.Count == 0)
            {
                Console.WriteLine($"{EventPartitions.Table} is a plain table (it held rows before partitioning came): './run.sh partitions convert' partitions it online (docs/partitions.md).");
                return 0;
            }
            var name = partitions.Max(p => p.Name.Length) + 2;
            Console.WriteLine($"{"PARTITION".PadRight(name)}{"RANGE (UTC)",-44}{"ROWS (EST.)",14}{"SIZE",12}");
            foreach (var p in partitions)
            {
                var rows = p.Rows < 0 ? "-" : p.Rows.ToString("N0", CultureInfo.InvariantCulture);
                Console.WriteLine($"{p.Name.PadRight(name)}{p.Range,-44}{rows,14}{Size(p.Bytes),12}{(p.DetachPending ? "  detach pending" : "")}");
            }
            return 0;
        });
        return command;
    }

    private static Command Ensure()
    {
        var from = new Option<DateTimeOffset?>("--from") { Description = "Start of the range to cover (ISO 8601, UTC when it has no offset). Default: now.", CustomParser = UtcTime };
        var to = new Option<DateTimeOffset?>("--to") { Description = "End of the range to cover, exclusive. Default: a month after --from.", CustomParser = UtcTime };
        var command = new Command("ensure", """
            Make the partitions missing for a range of times: without options, the one holding now and
            Events__PartitionsAhead more, as the Partitions timer does. Each is made in its own short transaction
            (LIKE + ATTACH), so ingest goes on. Use --from/--to before restoring an archive of a retired month.
            Prints how many it made.
            """) { from, to };
        command.SetAction(async (parsed, ct) =>
        {
            if (parsed.GetValue(from) is { } f && parsed.GetValue(to) is { } t && t <= f)
            {
                Console.Error.WriteLine("error: --to must be later than --from.");
                Console.Error.WriteLine("Run './run.sh partitions ensure --help' for usage.");
                return OpsCli.UsageError;
            }
            await using var services = await OpsCli.ServicesAsync(ct);
            var partitions = services.GetRequiredService<EventPartitions>();
            var made = parsed.GetValue(from) is null && parsed.GetValue(to) is null
                ? await partitions.EnsureAheadAsync(ct)
                : await partitions.EnsureCoveringAsync(
                    parsed.GetValue(from) ?? DateTimeOffset.UtcNow,
                    parsed.GetValue(to) ?? (parsed.GetValue(from) ?? DateTimeOffset.UtcNow).AddMonths(1), ct);
            Console.WriteLine($"Partitions {EventPartitions.Table}: {made} made");
            return 0;
        });
        return command;
    }

    private static Command Convert()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the cutoff, the row estimate and the steps, and change nothing." };
        var tries = new Option<int>("--tries")
        {
            Description = "How many times a step that needs a table lock waits for it (3 s each, with a growing pause between).",
            DefaultValueFactory = _ => PartitionConversion.DefaultTries,
        };
        tries.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out var value) && value is < 1 or > 100)
            {
                result.AddError("--tries must be a whole number from 1 to 100.");
            }
        });
        var command = new Command("convert", """
            Partition a signal_events that already held events before partitioning came (a fresh database is
            partitioned by the schema), online and in place: nothing is copied. Its rows become the partition
            signal_events_history, up to a cutoff at the start of the next month (the one after when fewer than 7
            days remain). Steps: a unique index on (id, created_at) built CONCURRENTLY; a CHECK created_at < cutoff
            added NOT VALID and validated (ingest goes on); the swap under a 3 s lock timeout, tried again when busy;
            the partitions ahead; ANALYZE. Each step is printed as it starts and ends. A run that stopped or was
            refused resumes where it was. Exit 0 converted or already partitioned; 1 refused (busy, or rows dated at
            or after the cutoff), with what to do. See docs/partitions.md.
            """) { dryRun, tries };
        command.SetAction(async (parsed, ct) =>
        {
            await using var services = await OpsCli.ServicesAsync(ct);
            try
            {
                await ActivatorUtilities.CreateInstance<PartitionConversion>(services)
                    .RunAsync(parsed.GetValue(dryRun), parsed.GetValue(tries), Console.WriteLine, ct);
                return 0;
            }
            catch (PartitionConversionRefusedException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    private static DateTimeOffset? UtcTime(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Single().Value;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }
        result.AddError($"'{text}' is not a time; give ISO 8601, e.g. 2026-11-01 or 2026-11-01T00:00:00Z.");
        return null;
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MB",
        _ => $"{bytes / 1024.0:0} kB",
    };
}
