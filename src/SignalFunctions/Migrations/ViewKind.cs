namespace SignalFunctions.Migrations;

public enum ViewKind
{
    MaterializedView,
    Rollup,
}
