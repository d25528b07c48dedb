using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SignalFunctions.Database;
using SignalFunctions.Flags;
using SignalFunctions.Guard;
using SignalFunctions.Health;
using SignalFunctions.Partitions;
using SignalFunctions.Stages;

namespace SignalFunctions.Ingest;

/// <summary>
/// Group commit: requests queue their events; a writer takes everything waiting, writes it in one
/// transaction, and answers each request only after that transaction committed. Many requests,
/// one fsync. Within the transaction the authoritative side is written first; the other side runs
/// under a savepoint, and if it fails the savepoint is rolled back and a repair entry recorded, so
/// the authoritative write never fails because of the other side.
/// </summary>
public sealed partial class SignalEventWriter(
    NpgsqlDataSource dataSource,
    StageRouter stages,
    WriteHealth health,
    IngestMeter meter,
    IOptions<IngestOptions> options,
    EventPartitions partitions,
    ILogger<SignalEventWriter> logger) : IHostedService
{
    private const string Migration = KnownMigrations.SignalEvents;

    private readonly Channel<PendingWrite> _queue = Channel.CreateBounded<PendingWrite>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.Wait });

    // Events queued and not yet taken into a group: a helper writer joins in only above a threshold.
    private int _queuedEvents;
    private readonly SemaphoreSlim _helperWake = new(0);
    private volatile bool _stopping;
    private Task[] _loops = [];

    public async Task<IngestReceipt> WriteAsync(IReadOnlyList<SignalEvent> events, CancellationToken ct)
    {
        var pending = new PendingWrite(events);
        try
        {
            await _queue.Writer.WriteAsync(pending, ct);
        }
        catch (ChannelClosedException)
        {
            throw new DatabaseUnavailableException("The app is shutting down.");
        }
        var queued = Interlocked.Add(ref _queuedEvents, events.Count);
        var threshold = options.Value.ParallelGroupEvents;
        if (queued >= threshold && queued - events.Count < threshold)
        {
            _helperWake.Release();
        }
        // Once queued the write goes ahead even if the caller leaves: it cannot be taken back.
        return await pending.Completion.Task;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loops = Enumerable.Range(0, options.Value.Writers)
            .Select(i => Task.Run(i == 0 ? WriteLoopAsync : HelperLoopAsync, CancellationToken.None))
            .ToArray();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Drain: everything already queued is written and answered before the process exits
        // (by the first writer; helpers stop).
        _stopping = true;
        _queue.Writer.TryComplete();
        _helperWake.Release(Math.Max(1, _loops.Length));
        await Task.WhenAll(_loops).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// The first writer: takes whatever is queued whenever it is free. Under light and moderate load
    /// that gives the fewest, largest groups, and per transaction PostgreSQL pays a fixed price.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var group = new List<PendingWrite>();
        var reader = _queue.Reader;
        // Each loop keeps its own connection: no pool round trip or session reset per group, and
        // the auto-prepared INSERTs stay prepared on it.
        var session = new WriterConnection(dataSource);
        try
        {
            while (await reader.WaitToReadAsync())
            {
                if (TakeGroup(reader, group))
                {
                    await CommitGroupAsync(session, group);
                }
            }
        }
        finally
        {
            await session.DisposeAsync();
        }
    }

    /// <summary>
    /// The other writers join in only while at least ParallelGroupEvents events wait: then a group
    /// is big enough that a second PostgreSQL backend (a second core) earns its per-transaction cost.
    /// Below that they would only split the first writer's groups (BENCHMARKS.md).
    /// </summary>
    private async Task HelperLoopAsync()
    {
        var group = new List<PendingWrite>();
        var reader = _queue.Reader;
        var session = new WriterConnection(dataSource);
        try
        {
            while (!_stopping)
            {
                if (Volatile.Read(ref _queuedEvents) < options.Value.ParallelGroupEvents)
                {
                    await _helperWake.WaitAsync();
                    continue;
                }
                if (TakeGroup(reader, group))
                {
                    await CommitGroupAsync(session, group);
                }
            }
        }
        finally
        {
            await session.DisposeAsync();
        }
    }

    private bool TakeGroup(ChannelReader<PendingWrite> reader, List<PendingWrite> group)
    {
        group.Clear();
        var events = 0;
        while (events < options.Value.MaxGroupEvents && reader.TryRead(out var pending))
        {
            group.Add(pending);
            events += pending.Events.Count;
        }
        Interlocked.Add(ref _queuedEvents, -events);
        return group.Count > 0;
    }

    private async Task CommitGroupAsync(WriterConnection session, List<PendingWrite> group, bool partitionsMade = false)
    {
        try
        {
            var receipts = await WriteInTransactionAsync(session, group);
            for (var i = 0; i < group.Count; i++)
            {
                group[i].Completion.TrySetResult(receipts[i]);
            }
        }
        catch (PostgresException ex) when (!partitionsMade && EventPartitions.IsMissingPartition(ex))
        {
            // A partition dropped since the writer last looked: make what the group needs, then once more.
            try
            {
                await MakePartitionsAsync(group.SelectMany(p => p.Events).Select(e => e.CreatedAt).ToList());
            }
            catch (Exception failure)
            {
                // Thrown here it would escape the catch-all below and stop this writer's loop.
                LogGroupFailed(failure, group.Count);
                Fail(group, failure);
                return;
            }
            await CommitGroupAsync(session, group, partitionsMade: true);
        }
        catch (Exception ex) when (group.Count > 1 && ex is PostgresException && !DatabaseExtensions.IsUnavailable(ex))
        {
            // One request's rows broke the transaction for all: retry each alone so it fails by itself.
            LogGroupRetried(ex, group.Count);
            foreach (var pending in group)
            {
                await CommitGroupAsync(session, [pending]);
            }
        }
        catch (Exception ex)
        {
            var failure = DatabaseExtensions.IsUnavailable(ex) || ex is FlagsUnavailableException
                ? ex as FlagsUnavailableException ?? (Exception)new DatabaseUnavailableException("The database is unreachable.", ex)
                : ex;
            LogGroupFailed(ex, group.Count);
            Fail(group, failure);
        }
    }

    private static void Fail(List<PendingWrite> group, Exception failure)
    {
        foreach (var pending in group)
        {
            pending.Completion.TrySetException(failure);
        }
    }

    /// <summary>
    /// Makes the partitions the times need. Failing that (a lock held too long, a lost connection), the
    /// group is answered 503: a retry finds the partition made, or makes it.
    /// </summary>
    private async Task MakePartitionsAsync(List<DateTimeOffset> times)
    {
        try
        {
            await partitions.EnsureCoveringAsync(times.Min(), times.Max().AddTicks(1), CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new DatabaseUnavailableException($"No partition of {EventPartitions.Table} holds these events' time yet, and one could not be made now.", ex);
        }
    }

    private async Task<IngestReceipt[]> WriteInTransactionAsync(WriterConnection session, List<PendingWrite> group)
    {
        // One snapshot for the whole group: every request in it sees the same flags.
        var route = stages.For(Migration);

        var connection = await session.OpenAsync();
        var firstSeen = await FirstSeenTimesAsync(session, connection, group);

        var legacyFirst = new List<SignalEvent>();
        var newFirst = new List<SignalEvent>();
        var newSecond = new List<SignalEvent>();
        var legacySecond = new List<SignalEvent>();
        foreach (var pending in group)
        {
            foreach (var sent in pending.Events)
            {
                var e = sent.NeedsFirstSeen ? sent with { CreatedAt = firstSeen![sent.Id] } : sent;
                var plan = e.HasLegacyHome ? (await route.StageForAsync(e.SignalId, CancellationToken.None)).WritePlan() : new WritePlan(Side.New, null);
                (plan.Authoritative == Side.Legacy ? legacyFirst : newFirst).Add(e);
                if (plan.Secondary == Side.New)
                {
                    newSecond.Add(e);
                }
                else if (plan.Secondary == Side.Legacy)
                {
                    legacySecond.Add(e);
                }
            }
        }

        // No event is refused for want of a partition: a month the timer has not made yet is made now.
        if (newFirst.Concat(newSecond).Select(e => e.CreatedAt).ToList() is [_, ..] times && !partitions.Covers(times.Min(), times.Max()))
        {
            await MakePartitionsAsync(times);
        }

        var secondaries = new List<(Side Side, List<SignalEvent> Events)>(2);
        if (newSecond.Count > 0)
        {
            secondaries.Add((Side.New, newSecond));
        }
        if (legacySecond.Count > 0)
        {
            secondaries.Add((Side.Legacy, legacySecond));
        }
        var authoritative = new List<(Side Side, List<SignalEvent> Events)>(2);
        if (legacyFirst.Count > 0)
        {
            authoritative.Add((Side.Legacy, legacyFirst));
        }
        if (newFirst.Count > 0)
        {
            authoritative.Add((Side.New, newFirst));
        }

        var inserted = new HashSet<Guid>();
        var failedSecondary = 0;
        try
        {
            await using var tx = await connection.BeginTransactionAsync();
            // The whole transaction is one round trip (BEGIN is sent with the batch): the authoritative
            // INSERTs, each secondary INSERT between SAVEPOINT and RELEASE, then COMMIT. PostgreSQL
            // skips everything after a failing statement, so a failing secondary leaves the transaction
            // to be rolled back to its savepoint; the repair entry and the rest follow, then COMMIT.
            var from = 0;
            while (await ExecuteAsync(connection, tx, from == 0 ? authoritative : [], secondaries.GetRange(from, secondaries.Count - from), inserted)
                   is { } failure)
            {
                var (side, events) = secondaries[from + failure.Index];
                var pg = failure.Error;
                await tx.RollbackAsync("secondary");
                var error = $"{pg.SqlState}: {pg.MessageText}";
                await RepairQueue.AddSignalEventsAsync(connection, tx, Migration, side, events, error);
                health.Failed(Migration, side, events.Count, error);
                failedSecondary += events.Count;
                LogSecondaryFailed(side.Name(), events.Count, pg.SqlState, pg.MessageText);
                from += failure.Index + 1;
                if (from == secondaries.Count)
                {
                    await tx.CommitAsync();
                    break;
                }
            }
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex) || ex is not PostgresException)
        {
            // The connection may be broken or mid-protocol: start the next group on a fresh one.
            await session.ResetAsync();
            throw;
        }
        meter.SecondaryWrites(route.Flag, newSecond.Count + legacySecond.Count, failedSecondary);

        // The first request to carry an id gets it; a repeat, in this group or later, is a duplicate.
        var receipts = new IngestReceipt[group.Count];
        for (var i = 0; i < group.Count; i++)
        {
            var events = group[i].Events;
            var accepted = 0;
            for (var j = 0; j < events.Count; j++)
            {
                if (inserted.Remove(events[j].Id))
                {
                    accepted++;
                }
            }
            receipts[i] = new IngestReceipt(accepted, events.Count - accepted);
        }
        return receipts;
    }

    /// <summary>
    /// The stored time of each id a client sent without a time, recording the ones not seen before; null
    /// when the group has none (then this costs nothing). Committed on its own before the group's
    /// transaction: a group that fails and is retried, here or by the client, finds the same time.
    /// </summary>
    private static async Task<Dictionary<Guid, DateTimeOffset>?> FirstSeenTimesAsync(
        WriterConnection session, NpgsqlConnection connection, List<PendingWrite> group)
    {
        var untimed = group.SelectMany(p => p.Events).Where(e => e.NeedsFirstSeen).ToList();
        if (untimed.Count == 0)
        {
            return null;
        }
        try
        {
            await using var command = new NpgsqlCommand("SELECT id, created_at FROM signal_event_times(@ids, @times)", connection);
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", [.. untimed.Select(e => e.Id)]));
            command.Parameters.Add(new NpgsqlParameter<DateTime[]>("times", [.. untimed.Select(e => e.CreatedAt.UtcDateTime)]));
            var times = new Dictionary<Guid, DateTimeOffset>(untimed.Count);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                times[reader.GetGuid(0)] = new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero);
            }
            return times;
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex) || ex is not PostgresException)
        {
            await session.ResetAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs the authoritative INSERTs, the secondary ones (each under the savepoint) and COMMIT as one
    /// batch. Returns null when all of it succeeded, or which secondary failed and why; any other
    /// failure throws, and disposing the transaction rolls it back.
    /// </summary>
    private static async Task<(int Index, PostgresException Error)?> ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, List<(Side Side, List<SignalEvent> Events)> authoritative,
        List<(Side Side, List<SignalEvent> Events)> secondaries, HashSet<Guid> inserted)
    {
        await using var batch = new NpgsqlBatch(connection, tx);
        foreach (var (side, events) in authoritative)
        {
            batch.BatchCommands.Add(InsertCommand(side, events, returning: true));
        }
        var savepoints = new NpgsqlBatchCommand[secondaries.Count];
        var secondaryCommands = new NpgsqlBatchCommand[secondaries.Count];
        for (var i = 0; i < secondaries.Count; i++)
        {
            batch.BatchCommands.Add(savepoints[i] = new NpgsqlBatchCommand("SAVEPOINT secondary"));
            batch.BatchCommands.Add(secondaryCommands[i] = InsertCommand(secondaries[i].Side, secondaries[i].Events, returning: false));
            batch.BatchCommands.Add(new NpgsqlBatchCommand("RELEASE SAVEPOINT secondary"));
        }
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        try
        {
            await using var reader = await batch.ExecuteReaderAsync();
            for (var i = 0; i < authoritative.Count; i++)
            {
                while (await reader.ReadAsync())
                {
                    inserted.Add(reader.GetGuid(0));
                }
                await reader.NextResultAsync();
            }
            while (await reader.NextResultAsync())
            {
            }
            return null;
        }
        catch (PostgresException ex) when (!DatabaseExtensions.IsUnavailable(ex) && !EventPartitions.IsMissingPartition(ex)
                                           && FailedSecondary(savepoints, secondaryCommands) is var index and >= 0)
        {
            return (index, ex);
        }
    }

    /// <summary>
    /// Which secondary INSERT failed, if one did: the failing statement is the first one PostgreSQL did
    /// not complete (StatementType still Unknown); a secondary counts only if its SAVEPOINT completed.
    /// </summary>
    private static int FailedSecondary(NpgsqlBatchCommand[] savepoints, NpgsqlBatchCommand[] secondaryCommands)
    {
        for (var i = 0; i < secondaryCommands.Length; i++)
        {
            if (savepoints[i].StatementType == StatementType.Unknown)
            {
                return -1;
            }
            if (secondaryCommands[i].StatementType == StatementType.Unknown)
            {
                return i;
            }
        }
        return -1;
    }

    // Raw Npgsql rather than Dapper on this path: typed arrays unnest into one statement per side,
    // whatever the group's size, and the statements stay (auto-)prepared.
    private static NpgsqlBatchCommand InsertCommand(Side side, List<SignalEvent> events, bool returning)
    {
        var legacy = side == Side.Legacy;
        var n = events.Count;
        var id = new Guid[n];
        var contentId = new Guid[n];
        var userId = new Guid?[n];
        var sessionId = new string?[n];
        var targetType = new string[n];
        var targetId = new Guid[n];
        var eventType = new string[n];
        var sourceComponent = new string[n];
        var metadata = new string[n];
        var createdAt = new DateTime[n];
        // Only the new table has these columns.
        var signalId = legacy ? null : new Guid[n];
        var contentType = legacy ? null : new string[n];
        for (var i = 0; i < n; i++)
        {
            var e = events[i];
            id[i] = e.Id;
            if (signalId is not null && contentType is not null)
            {
                signalId[i] = e.SignalId;
                contentType[i] = e.ContentType;
            }
            contentId[i] = e.ContentId;
            userId[i] = e.UserId;
            sessionId[i] = e.SessionId;
            targetType[i] = e.TargetType;
            targetId[i] = e.TargetId;
            eventType[i] = e.EventType;
            sourceComponent[i] = e.SourceComponent;
            metadata[i] = legacy ? LegacyMetadata(e) : e.MetadataJson;
            createdAt[i] = e.CreatedAt.UtcDateTime;
        }
        var command = new NpgsqlBatchCommand((legacy, returning) switch
        {
            (true, true) => InsertLegacyReturningSql,
            (true, false) => InsertLegacySql,
            (false, true) => InsertNewReturningSql,
            (false, false) => InsertNewSql,
        });
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<Guid[]>("id", id));
        p.Add(new NpgsqlParameter<Guid[]>("content_id", contentId));
        p.Add(new NpgsqlParameter<Guid?[]>("user_id", userId));
        p.Add(new NpgsqlParameter<string?[]>("session_id", sessionId));
        p.Add(new NpgsqlParameter<string[]>("target_type", targetType));
        p.Add(new NpgsqlParameter<Guid[]>("target_id", targetId));
        p.Add(new NpgsqlParameter<string[]>("event_type", eventType));
        p.Add(new NpgsqlParameter<string[]>("source_component", sourceComponent));
        p.Add(new NpgsqlParameter<string[]>("metadata", metadata) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        p.Add(new NpgsqlParameter<DateTime[]>("created_at", createdAt));
        if (signalId is not null && contentType is not null)
        {
            // Parameters are matched by name, so their order does not matter.
            p.Add(new NpgsqlParameter<Guid[]>("signal_id", signalId));
            p.Add(new NpgsqlParameter<string[]>("content_type", contentType));
        }
        return command;
    }

    /// <summary>
    /// The legacy table has no signal_id column: the journey travels in metadata, as it did before.
    /// The same jsonb as SQL's <c>metadata || jsonb_build_object('signal_id', signal_id)</c> (jsonb keeps
    /// the last of duplicate keys, as || lets its right side win), built here because that expression
    /// cost PostgreSQL a quarter of the legacy INSERT (BENCHMARKS.md).
    /// </summary>
    internal static string LegacyMetadata(SignalEvent e)
    {
        var json = e.MetadataJson;
        var signalId = e.SignalId.ToString("D");
        return json == "{}"
            ? string.Concat("{\"signal_id\":\"", signalId, "\"}")
            : string.Concat(json.AsSpan(0, json.Length - 1), ",\"signal_id\":\"", signalId, "\"}");
    }

    private const string InsertNewSql = """
        INSERT INTO signal_events (id, signal_id, content_id, content_type, user_id, session_id, target_type,
                                   target_id, event_type, source_component, metadata, created_at)
        SELECT * FROM unnest(@id, @signal_id, @content_id, @content_type, @user_id, @session_id, @target_type,
                             @target_id, @event_type, @source_component, @metadata, @created_at)
        ON CONFLICT DO NOTHING
        """;

    private const string InsertLegacySql = """
        INSERT INTO blog_attribution_events (id, blog_article_id, user_id, session_id, target_type, target_id,
                                             event_type, source_component, metadata, created_at)
        SELECT * FROM unnest(@id, @content_id, @user_id, @session_id, @target_type, @target_id,
                             @event_type, @source_component, @metadata, @created_at)
        ON CONFLICT (id) DO NOTHING
        """;

    private const string InsertNewReturningSql = InsertNewSql + "\nRETURNING id";
    private const string InsertLegacyReturningSql = InsertLegacySql + "\nRETURNING id";

    /// <summary>One writer loop's connection, opened on first use and again after a failure broke it.</summary>
    private sealed class WriterConnection(NpgsqlDataSource dataSource) : IAsyncDisposable
    {
        private NpgsqlConnection? _connection;

        public async Task<NpgsqlConnection> OpenAsync()
        {
            if (_connection is { State: System.Data.ConnectionState.Open })
            {
                return _connection;
            }
            await ResetAsync();
            _connection = await dataSource.OpenConnectionAsync();
            return _connection;
        }

        public async Task ResetAsync()
        {
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
        }

        public ValueTask DisposeAsync() => new(ResetAsync());
    }

    private sealed class PendingWrite(IReadOnlyList<SignalEvent> events)
    {
        public IReadOnlyList<SignalEvent> Events { get; } = events;
        public TaskCompletionSource<IngestReceipt> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Secondary write to the {Side} side failed for {Events} events ({SqlState}: {Error}); repair entries recorded")]
    private partial void LogSecondaryFailed(string side, int events, string sqlState, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A group of {Requests} requests failed to commit; retrying each request alone")]
    private partial void LogGroupRetried(Exception exception, int requests);

    [LoggerMessage(Level = LogLevel.Error, Message = "A group of {Requests} requests failed to commit")]
    private partial void LogGroupFailed(Exception exception, int requests);
}
