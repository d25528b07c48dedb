using Dapper;
using Npgsql;
using SignalFunctions.Hosting;

namespace SignalFunctions.Demo;

/// <summary>The legacy tables of brand-metrics (brand_positions.sql), for demo-data, the tests and the benchmark.</summary>
public static class BrandPositions
{
    /// <summary>About this many extracted_positions rows per collector result (one brand row, ~3 competitor rows).</summary>
    public const double RowsPerResult = 4.0;

    /// <summary>Adds <paramref name="results"/> collector results of <paramref name="brands"/> new brands, in one transaction.</summary>
    public static async Task<BrandPositionsResult> FillAsync(
        NpgsqlConnection connection, int brands, long results, int days, long seed, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(DemoData.UniformFunction, transaction: tx, cancellationToken: ct));
        var run = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..4]);
        var result = await connection.QuerySingleAsync<BrandPositionsResult>(new CommandDefinition(
            EmbeddedFiles.Read("demo/brand_positions.sql"), new { brands, results, days, seed, run }, tx, commandTimeout: 0, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return result;
    }
}
