namespace SignalFunctions.Hosting;

/// <summary>
/// Marks a function a browser calls. Its trigger must also accept "options", or the host never
/// routes the CORS preflight to the worker. Functions without it (probes, operators, webhooks) get no CORS.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BrowserFacingAttribute(Audience audience) : Attribute
{
    public Audience Audience { get; } = audience;
}
