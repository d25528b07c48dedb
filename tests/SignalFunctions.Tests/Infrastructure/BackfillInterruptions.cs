using SignalFunctions.Migrations;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>A backfill cut off at random moments, mid-batch or between batches, and started again until it completes.</summary>
public static class BackfillInterruptions
{
    /// <summary>
    /// Returns the checkpoint (rows scanned) after every run. After each one the rows the target holds
    /// must be exactly the checkpoint's: a batch lands whole with its checkpoint, or not at all.
    /// </summary>
    public static async Task<List<long>> RunUntilCompleteAsync(Engine engine, DataMigration m, Func<Task<long>> rowsCopied, int seed = 7)
    {
        var random = new Random(seed);
        var checkpoints = new List<long>();
        for (var run = 0; run < 2000; run++)
        {
            using var kill = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(5, 60)));
            var completed = false;
            try
            {
                completed = (await engine.Backfill.RunAsync(m, TimeSpan.FromMinutes(5), null, kill.Token)).Progress.Completed;
            }
            catch (OperationCanceledException)
            {
            }
            var checkpoint = (await engine.BackfillProgressAsync(m)).RowsScanned;
            Assert.Equal(checkpoint, await rowsCopied());
            Assert.True(checkpoints.Count == 0 || checkpoint >= checkpoints[^1], "the checkpoint went back");
            checkpoints.Add(checkpoint);
            if (completed)
            {
                return checkpoints;
            }
        }
        throw new InvalidOperationException("the backfill never completed");
    }
}
