namespace SignalFunctions.Views;

public enum RefreshMode
{
    Incremental,
    Full,
}
