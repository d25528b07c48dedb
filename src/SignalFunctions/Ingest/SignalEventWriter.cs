using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SignalFunctions.Database;
using SignalFunctions.Health;
using SignalFunctions.Stages;

namespace SignalFunctions.Ingest;

public sealed record IngestReceipt(int Accepted, int Duplicates);

/// <summary>
/// Group commit: requests queue their events; a writer takes everything waiting, writes it in one
/// transaction, and answers each request only after that transaction committed. Many requests,
/// one fsync. Within the transaction the authoritative side is written first; the other side runs
/// under a savepoint, and if it fails the savepoint is rolled back and a repair entry recorded, so
/// the authoritative write never fails because of the other side.
/// </summary>
public sealed partial class SignalEventWriter(
    NpgsqlDataSource dataSource,
    FlagState flags,
    WriteHealth health,
    IOptions<IngestOptions> options,
    ILogger<SignalEventWriter> logger) : IHostedService
{
    private const string Migration = KnownMigrations.SignalEvents;

    private readonly Channel<PendingWrite> _queue = Channel.CreateBounded<PendingWrite>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.Wait });

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
        // Once queued the write goes ahead even if the caller leaves: it cannot be taken back.
        return await pending.Completion.Task;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loops = Enumerable.Range(0, options.Value.Writers).Select(_ => Task.Run(WriteLoopAsync, CancellationToken.None)).ToArray();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Drain: everything already queued is written and answered before the process exits.
        _queue.Writer.TryComplete();
        await Task.WhenAll(_loops).WaitAsync(cancellationToken);
    }

    private async Task WriteLoopAsync()
    {
        var group = new List<PendingWrite>();
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            group.Clear();
            var events = 0;
            while (events < options.Value.MaxGroupEvents && reader.TryRead(out var pending))
            {
                group.Add(pending);
                events += pending.Events.Count;
            }
            if (group.Count > 0)
            {
                await CommitGroupAsync(group);
            }
        }
    }

    private async Task CommitGroupAsync(List<PendingWrite> group)
    {
        try
        {
            var receipts = await WriteInTransactionAsync(group);
            for (var i = 0; i < group.Count; i++)
            {
                group[i].Completion.TrySetResult(receipts[i]);
            }
        }
        catch (Exception ex) when (group.Count > 1 && ex is PostgresException && !DatabaseExtensions.IsUnavailable(ex))
        {
            // One request's rows broke the transaction for all: retry each alone so it fails by itself.
            LogGroupRetried(ex, group.Count);
            foreach (var pending in group)
            {
                await CommitGroupAsync([pending]);
            }
        }
        catch (Exception ex)
        {
            var failure = DatabaseExtensions.IsUnavailable(ex) || ex is FlagsUnavailableException
                ? ex as FlagsUnavailableException ?? (Exception)new DatabaseUnavailableException("The database is unreachable.", ex)
                : ex;
            LogGroupFailed(ex, group.Count);
            foreach (var pending in group)
            {
                pending.Completion.TrySetException(failure);
            }
        }
    }

    private async Task<IngestReceipt[]> WriteInTransactionAsync(List<PendingWrite> group)
    {
        var snapshot = flags.Current
            ?? throw new FlagsUnavailableException("Stage flags are not loaded yet, so the write side is unknown.");
        var flag = snapshot[Migration];

        var legacyFirst = new List<SignalEvent>();
        var newFirst = new List<SignalEvent>();
        var newSecond = new List<SignalEvent>();
        var legacySecond = new List<SignalEvent>();
        foreach (var pending in group)
        {
            foreach (var e in pending.Events)
            {
                var plan = e.HasLegacyHome ? flag.StageFor(e.SignalId).WritePlan() : new WritePlan(Side.New, null);
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

        await using var connection = await dataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var inserted = new HashSet<Guid>();
        if (legacyFirst.Count > 0)
        {
            await InsertAsync(connection, tx, Side.Legacy, legacyFirst, inserted);
        }
        if (newFirst.Count > 0)
        {
            await InsertAsync(connection, tx, Side.New, newFirst, inserted);
        }
        await WriteSecondaryAsync(connection, tx, Side.New, newSecond);
        await WriteSecondaryAsync(connection, tx, Side.Legacy, legacySecond);
        await tx.CommitAsync();

        // The first request to carry an id gets it; a repeat, in this group or later, is a duplicate.
        var receipts = new IngestReceipt[group.Count];
        for (var i = 0; i < group.Count; i++)
        {
            var accepted = group[i].Events.Count(e => inserted.Remove(e.Id));
            receipts[i] = new IngestReceipt(accepted, group[i].Events.Count - accepted);
        }
        return receipts;
    }

    private async Task WriteSecondaryAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Side side, List<SignalEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }
        await tx.SaveAsync("secondary");
        try
        {
            await InsertAsync(connection, tx, side, events, inserted: null);
            await tx.ReleaseAsync("secondary");
        }
        catch (PostgresException ex) when (!DatabaseExtensions.IsUnavailable(ex))
        {
            await tx.RollbackAsync("secondary");
            var error = $"{ex.SqlState}: {ex.MessageText}";
            await RepairQueue.AddSignalEventsAsync(connection, tx, Migration, side, events, error);
            health.Failed(Migration, side, events.Count, error);
            LogSecondaryFailed(side.Name(), events.Count, ex.SqlState, ex.MessageText);
        }
    }

    // Raw NpgsqlCommand rather than Dapper on this path: typed arrays unnest into one statement per
    // side, whatever the group's size, and the statements stay auto-prepared.
    private static async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Side side, List<SignalEvent> events, HashSet<Guid>? inserted)
    {
        await using var command = new NpgsqlCommand(side == Side.New ? InsertNewSql : InsertLegacySql, connection, tx);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<Guid[]>("id", events.Select(e => e.Id).ToArray()));
        p.Add(new NpgsqlParameter<Guid[]>("signal_id", events.Select(e => e.SignalId).ToArray()));
        p.Add(new NpgsqlParameter<Guid[]>("content_id", events.Select(e => e.ContentId).ToArray()));
        p.Add(new NpgsqlParameter<string[]>("content_type", events.Select(e => e.ContentType).ToArray()));
        p.Add(new NpgsqlParameter<Guid?[]>("user_id", events.Select(e => e.UserId).ToArray()));
        p.Add(new NpgsqlParameter<string?[]>("session_id", events.Select(e => e.SessionId).ToArray()));
        p.Add(new NpgsqlParameter<string[]>("target_type", events.Select(e => e.TargetType).ToArray()));
        p.Add(new NpgsqlParameter<Guid[]>("target_id", events.Select(e => e.TargetId).ToArray()));
        p.Add(new NpgsqlParameter<string[]>("event_type", events.Select(e => e.EventType).ToArray()));
        p.Add(new NpgsqlParameter<string[]>("source_component", events.Select(e => e.SourceComponent).ToArray()));
        p.Add(new NpgsqlParameter<string[]>("metadata", events.Select(e => e.MetadataJson).ToArray()) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        p.Add(new NpgsqlParameter<DateTime[]>("created_at", events.Select(e => e.CreatedAt.UtcDateTime).ToArray()));
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            inserted?.Add(reader.GetGuid(0));
        }
    }

    private const string Unnest = """
        unnest(@id, @signal_id, @content_id, @content_type, @user_id, @session_id, @target_type,
               @target_id, @event_type, @source_component, @metadata, @created_at)
          AS e(id, signal_id, content_id, content_type, user_id, session_id, target_type,
               target_id, event_type, source_component, metadata, created_at)
        """;

    private const string InsertNewSql = $"""
        INSERT INTO signal_events (id, signal_id, content_id, content_type, user_id, session_id, target_type,
                                   target_id, event_type, source_component, metadata, created_at)
        SELECT * FROM {Unnest}
        ON CONFLICT (id) DO NOTHING
        RETURNING id
        """;

    // The legacy table has no signal_id column: the journey travels in metadata, as it did before.
    private const string InsertLegacySql = $"""
        INSERT INTO blog_attribution_events (id, blog_article_id, user_id, session_id, target_type, target_id,
                                             event_type, source_component, metadata, created_at)
        SELECT id, content_id, user_id, session_id, target_type, target_id, event_type, source_component,
               metadata || jsonb_build_object('signal_id', signal_id), created_at
          FROM {Unnest}
        ON CONFLICT (id) DO NOTHING
        RETURNING id
        """;

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
