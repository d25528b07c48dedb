namespace SignalFunctions.Flags.AppConfiguration;

public sealed record KeyValueRead(KeyValueReadStatus Status, KeyValue? Value);
