using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SignalFunctions.Partitions;

namespace SignalFunctions.Cli;

/// <summary>`partitions list|ensure|convert|retire`: signal_events' time partitions.</summary>
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
        command.Subcommands.Add(Retire());
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

    private static Command Retire()
    {
        var dir = new Option<string>("--dir") { Description = "Archive each partition to DIR/NAME.csv.gz (and NAME.json) before dropping it. Default: Events__ArchiveDirectory." };
        var drop = new Option<bool>("--drop") { Description = "Drop without an archive." };
        var partition = new Option<string>("--partition") { Description = "Only this partition (one past retention, or one a run left part way)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be retired and change nothing." };
        var command = new Command("retire", """
            Retire the partitions past Events__RetentionMonths (those ending on or before the start of this UTC month
            minus that many months), oldest first: DETACH ... CONCURRENTLY (ingest goes on), an archive to
            DIR/NAME.csv.gz that is read back and checked, then DROP. Without --dir or --drop it does what
            Events__RetentionAction says. A run that died part way is resumed first. Refused, with nothing changed,
            while a migration still needs signal_events' rows (until it is cleaned up or set off). Exit 1 when
            refused, 3 when another run is retiring.
            """) { dir, drop, partition, dryRun };
        command.SetAction(async (parsed, ct) =>
        {
            if (parsed.GetValue(dir) is not null && parsed.GetValue(drop))
            {
                return Usage("give --dir or --drop, not both.");
            }
            await using var services = await OpsCli.ServicesAsync(ct);
            var settings = services.GetRequiredService<IOptions<EventsOptions>>().Value;
            var dropOnly = parsed.GetValue(drop) || (parsed.GetValue(dir) is null && settings.RetentionAction == EventsOptions.Drop);
            var directory = dropOnly ? null : parsed.GetValue(dir) ?? (settings.ArchiveDirectory is "" ? null : settings.ArchiveDirectory);
            if (!dropOnly && directory is null)
            {
                return Usage("nothing to archive to: give --dir DIR (or set Events__ArchiveDirectory), or --drop to drop without an archive.");
            }
            var request = new RetireRequest(parsed.GetValue(partition), directory, parsed.GetValue(dryRun), $"cli:{Environment.UserName}");
            RetentionRun? run;
            try
            {
                run = await services.GetRequiredService<PartitionRetention>().RetireAsync(request, new ConsoleProgress(), ct);
            }
            catch (Exception ex) when (ex is RetentionRefusedException or IOException or UnauthorizedAccessException)
            {
                // A file that could not be written leaves the partition detached, for the next run.
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
            if (run is null)
            {
                Console.Error.WriteLine($"error: another run is retiring partitions of {EventPartitions.Table} (the Partitions timer, or a retire elsewhere): nothing was done; try again when it ends.");
                return 3;
            }
            if (run.Targets.Count == 0)
            {
                Console.WriteLine(run.Plan.RetireBefore is { } before
                    ? $"Nothing to retire: with Events__RetentionMonths={run.Plan.RetentionMonths}, partitions ending on or before {before:yyyy-MM-dd} (UTC) are retired, and none does."
                    : "Nothing to retire: Events__RetentionMonths is 0, which keeps every partition.");
                return 0;
            }
            if (request.DryRun)
            {
                Console.WriteLine(directory is null ? "Would drop, without an archive:" : $"Would archive to {Path.GetFullPath(directory)}, then drop:");
                foreach (var p in run.Targets)
                {
                    var resumed = run.Plan.Unfinished.FirstOrDefault(r => r.Partition == p.Name);
                    Console.WriteLine($"  {p.Name} ({p.Range}, {p.RowsText}){(resumed is null ? "" : $", resuming from {resumed.State}")}");
                }
                return 0;
            }
            foreach (var retired in run.Retired)
            {
                Console.WriteLine(PartitionRetention.Describe(retired));
            }
            return 0;
        });
        return command;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        Console.Error.WriteLine("Run './run.sh partitions retire --help' for usage.");
        return OpsCli.UsageError;
    }

    /// <summary>An export's progress as lines, in order, as it goes (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class ConsoleProgress : IProgress<ExportProgress>
    {
        public void Report(ExportProgress p)
        {
            var seconds = Math.Max(p.Elapsed.TotalSeconds, 0.001);
            Console.WriteLine($"{p.Partition}: {p.Rows:N0} of {p.TotalRows:N0} rows, {p.CsvBytes / 1048576.0:0.0} MB of CSV, " +
                              $"{p.FileBytes / 1048576.0:0.0} MB written, {p.Rows / seconds:N0} rows/s");
        }
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
