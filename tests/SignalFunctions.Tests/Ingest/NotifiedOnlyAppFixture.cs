using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Ingest;

/// <summary>An app that re-reads its flags only once an hour: whatever it obeys sooner reached it by notification.</summary>
public sealed class NotifiedOnlyAppFixture : AppFixture
{
    protected override IDictionary<string, string> Settings => new Dictionary<string, string>(base.Settings)
    {
        ["Flags__RefreshSeconds"] = "3600",
    };
}
