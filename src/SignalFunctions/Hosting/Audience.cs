namespace SignalFunctions.Hosting;

/// <summary>Who a browser-facing HTTP function is for, which decides the rules in front of it.</summary>
public enum Audience
{
    /// <summary>Browsers and other senders of events: CORS, rate limit, origin check.</summary>
    Ingest,

    /// <summary>Readable from a browser (CORS) but writes nothing.</summary>
    Public,
}
