using Npgsql;

namespace SignalFunctions.Clicks;

/// <summary>
/// An export under way: its connection, its (read-only) transaction, its query and the rows still to
/// come. Disposed before the last row (the client went away, or a write failed), it cancels the query
/// first, so the server stops producing rows nobody will read and the connection goes back to the
/// pool at once.
/// </summary>
public sealed class ClickExport(NpgsqlConnection connection, NpgsqlTransaction transaction, NpgsqlCommand command, NpgsqlDataReader reader) : IAsyncDisposable
{
    private bool _finished;

    public async IAsyncEnumerable<ClickRow> RowsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        while (await reader.ReadAsync(ct))
        {
            yield return ClickReads.Read(reader);
        }
        _finished = true;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_finished)
            {
                command.Cancel();
            }
            await reader.DisposeAsync();
            if (_finished)
            {
                await transaction.CommitAsync();
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.QueryCanceled)
        {
            // What the cancel asked for.
        }
        finally
        {
            await transaction.DisposeAsync();
            await command.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
