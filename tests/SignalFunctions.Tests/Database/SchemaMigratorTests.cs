using Microsoft.Extensions.Logging.Abstractions;
using SignalFunctions.Database;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Database;

public sealed class SchemaMigratorTests : IClassFixture<TestDatabase>
{
    private readonly TestDatabase _db;

    public SchemaMigratorTests(TestDatabase db) => _db = db;

    private static readonly IReadOnlyList<string> SchemaFiles =
        SignalFunctions.Hosting.EmbeddedFiles.Names("schema").Select(n => n["schema/".Length..]).ToList();

    private SchemaMigrator Migrator() => new(_db.DataSource, NullLogger<SchemaMigrator>.Instance);

    [Fact]
    public async Task Every_file_is_recorded_once_and_a_second_run_applies_nothing()
    {
        var files = await _db.QueryAsync<string>("SELECT file FROM schema_versions ORDER BY file");
        Assert.Equal(SchemaFiles, files);
        Assert.StartsWith("0001_legacy_tables.sql", files[0], StringComparison.Ordinal);

        Assert.Empty(await Migrator().MigrateAsync(CancellationToken.None));
        Assert.Equal(files.Count, await _db.ScalarAsync<long>("SELECT count(*) FROM schema_versions"));
    }

    [Fact]
    public async Task Concurrent_migrators_on_a_fresh_database_apply_each_file_once()
    {
        await using var fresh = await TestDatabase.CreateAsync();
        await fresh.ExecuteAsync("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
        var migrators = Enumerable.Range(0, 4).Select(_ => new SchemaMigrator(fresh.DataSource, NullLogger<SchemaMigrator>.Instance));

        var applied = await Task.WhenAll(migrators.Select(m => m.MigrateAsync(CancellationToken.None)));

        Assert.Equal(SchemaFiles.Count, applied.Sum(a => a.Count));
        Assert.Equal(SchemaFiles.Count, await fresh.ScalarAsync<long>("SELECT count(*) FROM schema_versions"));
    }

    [Fact]
    public async Task An_applied_file_that_changed_stops_start_up_naming_the_file()
    {
        await using var drifted = await TestDatabase.CreateAsync();
        await drifted.ExecuteAsync("UPDATE schema_versions SET checksum = 'edited' WHERE file = '0002_signal_tables.sql'");

        var error = await Assert.ThrowsAsync<SchemaDriftException>(() =>
            new SchemaMigrator(drifted.DataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None));
        Assert.Contains("0002_signal_tables.sql", error.Message, StringComparison.Ordinal);
        Assert.Contains("new numbered file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_tables_enforce_the_seed_vocabulary()
    {
        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => _db.ExecuteAsync("""
            INSERT INTO signal_events (id, signal_id, content_id, target_type, target_id, event_type, source_component)
            VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'tutor', gen_random_uuid(), 'purchase', 'tutor_embed')
            """));
        Assert.Equal("23514", error.SqlState);
        // The legacy table never knew the 'distribution' component.
        var legacy = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => _db.ExecuteAsync("""
            INSERT INTO blog_attribution_events (blog_article_id, target_type, target_id, event_type, source_component)
            VALUES (gen_random_uuid(), 'tutor', gen_random_uuid(), 'click', 'distribution')
            """));
        Assert.Equal("23514", legacy.SqlState);
    }
}
