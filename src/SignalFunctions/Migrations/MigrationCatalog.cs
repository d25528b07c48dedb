using SignalFunctions.Migrations.Declarations;

namespace SignalFunctions.Migrations;

/// <summary>Every data migration the engine runs.</summary>
public static class MigrationCatalog
{
    public static readonly IReadOnlyList<DataMigration> All =
    [
        SignalEventsMigration.Declaration,
        SignalMetricsMigration.Declaration,
        SignalEmbedsMigration.Declaration,
        SignalSavesMigration.Declaration,
        ClickEventsMigration.Declaration,
        BrandMetricsMigration.Declaration,
        IntelligenceEventsMigration.Declaration,
        KpiHistoryMigration.Declaration,
        ContentQueueMigration.Declaration,
    ];

    public static DataMigration? Find(string name) => All.FirstOrDefault(m => m.Name == name);
}
