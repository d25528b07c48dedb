using SignalFunctions.Migrations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>The catalog, the known names and the stage flags agree, and every declaration's SQL runs.</summary>
public sealed class MigrationCatalogTests
{
    [Fact]
    public async Task Every_declared_migration_has_a_known_name_and_a_stage_flag_and_every_known_name_is_declared()
    {
        await using var db = await TestDatabase.CreateAsync();
        var flags = await db.QueryAsync<string>("SELECT migration FROM stage_flags");
        var declared = MigrationCatalog.All.Select(m => m.Name).ToList();

        Assert.Equal(declared.Count, declared.Distinct().Count());
        Assert.All(declared, name => Assert.Contains(name, flags));
        Assert.Equal(KnownMigrations.Names.Order(), declared.Order());
    }

    public static TheoryData<string> Declared => [.. MigrationCatalog.All.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(Declared))]
    public async Task Every_declaration_backfills_compares_and_installs_its_capture_on_an_empty_database(string name)
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        var m = MigrationCatalog.Find(name)!;

        Assert.Equal("complete", (await engine.BackfillAsync(m)).Outcome);
        var report = await engine.ParityAsync(m);
        Assert.True(report.Clean);
        Assert.Equal(m.Rules.Count, report.Validation.Count);
        // The capture SQL runs on every backfill tick: twice in a row must be harmless, and removing
        // it leaves the table's own triggers (the click table keeps its last activity by one).
        var triggers = $"SELECT count(*) FROM pg_trigger WHERE tgrelid = '{m.Source}'::regclass AND NOT tgisinternal";
        var own = await db.ScalarAsync<long>(triggers);
        foreach (var sql in new[] { m.InstallCaptureSql, m.InstallCaptureSql, m.RemoveCaptureSql, m.RemoveCaptureSql }.OfType<string>())
        {
            await db.ExecuteAsync(sql);
        }
        Assert.Equal(own, await db.ScalarAsync<long>(triggers));
        // The cut-over's recording of deletes: every declared table and key column exists (CREATE TRIGGER … UPDATE OF checks both).
        // A row trigger on a partitioned table is cloned to each partition: count the declared ones.
        const string CutoverTriggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\\_cutover\\_%' AND tgparentid = 0";
        if (CutoverDeletes.InstallSql(m) is { } install)
        {
            await db.ExecuteAsync(install);
        }
        Assert.Equal(3L * m.DeletesRecordedOn.Count, await db.ScalarAsync<long>(CutoverTriggers));
        await db.ExecuteAsync(CutoverDeletes.RemoveSql(m));
        Assert.Equal(0L, await db.ScalarAsync<long>(CutoverTriggers));
    }
}
