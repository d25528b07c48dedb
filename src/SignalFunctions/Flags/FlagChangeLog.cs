using SignalFunctions.Stages;

namespace SignalFunctions.Flags;

/// <summary>One log line per flag whose stage changed when a snapshot was applied, whichever store it came from.</summary>
public static partial class FlagChangeLog
{
    public static void LogChanges(ILogger logger, FlagSnapshot? previous, FlagSnapshot current)
    {
        foreach (var (migration, flag) in current.Flags)
        {
            if (previous is null || !previous.Flags.TryGetValue(migration, out var old) || old.Version != flag.Version)
            {
                LogFlagApplied(logger, migration, flag.Stage.Name(), flag.Percent, flag.Version, current.Source);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stage flag {Migration} is {Stage} at {Percent}% (version {Version}, from {Source})")]
    private static partial void LogFlagApplied(ILogger logger, string migration, string stage, int percent, long version, string source);
}
