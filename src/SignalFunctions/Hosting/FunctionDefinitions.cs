namespace SignalFunctions.Hosting;

public enum AuthLevel
{
    Anonymous,
    Function,
    Admin,
}

/// <summary>Who an HTTP function is for, which decides the policies in front of it.</summary>
public enum Audience
{
    /// <summary>Browsers and other senders of events: CORS, origin check, rate limit.</summary>
    Ingest,

    /// <summary>Readable from a browser (CORS) but writes nothing.</summary>
    Public,

    /// <summary>Probes and operators.</summary>
    Operations,
}

public abstract record FunctionDefinition(string Name);

/// <summary>An HTTP function; Route is under the /api prefix.</summary>
public sealed record HttpFunction(string Name, string Route, string[] Methods, AuthLevel AuthLevel, Audience Audience, Delegate Handler)
    : FunctionDefinition(Name);

/// <summary>
/// A timer function. Its schedule is the app setting {Name}Schedule when set (the Functions host
/// reads the same setting through %…% in function.json), else DefaultSchedule.
/// </summary>
public sealed record TimerFunction(string Name, string DefaultSchedule, Func<IServiceProvider, CancellationToken, Task<TimerOutcome>> Run)
    : FunctionDefinition(Name)
{
    public string ScheduleSetting => $"{Name}Schedule";
}

/// <summary>
/// What one timer run reports: one summary line, plus any detail worth a log line. Failed: part of
/// the run failed (its lines say which) after the rest ran, so the host records a failed invocation.
/// </summary>
public sealed record TimerOutcome(IReadOnlyList<string> Logs, bool Failed = false);
