using System.Data;
using Npgsql;

namespace SignalFunctions.Clicks;

/// <summary>
/// The reads behind the click table and the CSV export, in (last_activity_at, id) order, served by
/// the indexes of 0017_click_last_activity.sql. utm_source and platform are not read: the plan
/// replaces them with the events timeline in both, and the click-events cut-over renames them away.
/// </summary>
public static class ClickReads
{
    private const string Columns = """
        c.id, c.click_id, c.utm_medium, c.utm_campaign, c.utm_term, c.utm_content, c.qualified, c.score,
        c.date_created, c.date_updated, c.last_activity_at, c.events_dropped, c.events::text
        """;

    /// <summary>
    /// One page, and whether more follow. Without a type, or with one, a page reads its index (of all
    /// clicks, or of the type) in order for a page's worth of entries. With several, each type's index
    /// is read so for at most a page, and the union of those, deduplicated, cut to the page: a page
    /// costs the same however rare the types are.
    /// </summary>
    public static async Task<(List<ClickRow> Rows, bool More)> PageAsync(NpgsqlConnection connection, ClickQuery query, CancellationToken ct)
    {
        await using var command = query.EventTypes.Count <= 1
            ? Command(connection, where => $"SELECT {Columns} FROM cuft_click_tracking c WHERE {where} ORDER BY {Order(query.Ascending, "c.")} LIMIT @take", query)
            // One parameter set for every branch: they differ only in their literal type condition.
            : Command(connection, where =>
            {
                var keys = string.Join("\n UNION\n ", query.EventTypes.Select(type =>
                    $"(SELECT c.last_activity_at, c.id FROM cuft_click_tracking c WHERE {TypeCondition(type)} AND {where} ORDER BY {Order(query.Ascending, "c.")} LIMIT @take)"));
                return $"""
                    SELECT {Columns}
                      FROM (SELECT * FROM ({keys}) u ORDER BY {Order(query.Ascending, "u.")} LIMIT @take) k
                      JOIN cuft_click_tracking c ON c.id = k.id
                     ORDER BY {Order(query.Ascending, "k.")}
                    """;
            }, query, types: []);
        command.Parameters.AddWithValue("take", query.Limit + 1);
        var rows = new List<ClickRow>(query.Limit + 1);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(Read(reader));
        }
        var more = rows.Count > query.Limit;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }
        return (rows, more);
    }

    /// <summary>
    /// Every click the filters select, streamed: rows are read as they are written out, none is held.
    /// No time limit of its own; the request's cancellation stops it.
    /// </summary>
    public static async Task<ClickExport> ExportAsync(NpgsqlDataSource dataSource, ClickQuery query, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var transaction = await connection.BeginTransactionAsync(ct);
            // In index order, never sorted: over many rows the planner would rather sort a scan of the
            // table, and then the first row waits for the last (the sort spilling to disk on the way).
            // Walking the index sends each row as it is found.
            await using (var noSort = new NpgsqlCommand("SET LOCAL enable_sort = off", connection, transaction))
            {
                await noSort.ExecuteNonQueryAsync(ct);
            }
            var command = Command(connection, where => $"SELECT {Columns} FROM cuft_click_tracking c WHERE {where} ORDER BY {Order(query.Ascending, "c.")}", query);
            command.Transaction = transaction;
            command.CommandTimeout = 0;
            return new ClickExport(connection, transaction, command, await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    internal static ClickRow Read(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetString(1), Text(r, 2), Text(r, 3), Text(r, 4), Text(r, 5), r.GetBoolean(6), r.GetInt32(7),
        r.GetDateTime(8), r.GetDateTime(9), r.GetDateTime(10), r.GetInt32(11), Text(r, 12));

    private static string? Text(NpgsqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);

    /// <summary>The query's command, its filters (<see cref="Where"/>) bound.</summary>
    private static NpgsqlCommand Command(NpgsqlConnection connection, Func<string, string> sql, ClickQuery query, IReadOnlyList<string>? types = null)
    {
        var command = new NpgsqlCommand { Connection = connection };
        command.CommandText = sql(Where(command, query, types ?? query.EventTypes));
        return command;
    }

    /// <summary>
    /// The filters as conditions on c, their values bound to <paramref name="command"/>. Types are
    /// written as literals, which ClickQuery only takes from its fixed list: a parameter would hide
    /// from the planner that a per-type index applies.
    /// </summary>
    private static string Where(NpgsqlCommand command, ClickQuery query, IReadOnlyList<string> types)
    {
        var conditions = new List<string>();
        if (types.Count > 0)
        {
            conditions.Add("(" + string.Join(" OR ", types.Select(TypeCondition)) + ")");
        }
        if (query.From is { } from)
        {
            conditions.Add("c.last_activity_at >= @from");
            command.Parameters.AddWithValue("from", from);
        }
        if (query.To is { } to)
        {
            conditions.Add("c.last_activity_at < @to");
            command.Parameters.AddWithValue("to", to);
        }
        if (query.After is { } after)
        {
            conditions.Add($"(c.last_activity_at, c.id) {(query.Ascending ? ">" : "<")} (@afterAt, @afterId)");
            command.Parameters.AddWithValue("afterAt", after.LastActivity);
            command.Parameters.AddWithValue("afterId", after.Id);
        }
        return conditions.Count == 0 ? "true" : string.Join(" AND ", conditions);
    }

    private static string TypeCondition(string type) => $"c.events @> '[{{\"event\": \"{type}\"}}]'";

    private static string Order(bool ascending, string alias) =>
        ascending ? $"{alias}last_activity_at, {alias}id" : $"{alias}last_activity_at DESC, {alias}id DESC";
}
