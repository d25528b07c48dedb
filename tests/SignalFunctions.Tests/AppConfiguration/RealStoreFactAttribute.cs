namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>Skipped, saying how to enable it, unless SIGNAL_TEST_APPCONFIG holds a connection string.</summary>
public sealed class RealStoreFactAttribute : FactAttribute
{
    public RealStoreFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(RealStore.Variable)))
        {
            Skip = $"Runs against a real App Configuration store or the emulator: set {RealStore.Variable} to its connection " +
                   "string (Endpoint=https://{store}.azconfig.io;Id=…;Secret=…) to enable it.";
        }
    }
}
