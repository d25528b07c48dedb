namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>A store the client cases run against: the in-process contract server, or a real store / the emulator.</summary>
public interface IStoreUnderTest : IAsyncDisposable
{
    string ConnectionString { get; }

    /// <summary>How many items one page holds, so a case can make a listing span pages.</summary>
    int PageSize { get; }

    /// <summary>Keys under this prefix belong to this run only, and are removed afterwards.</summary>
    string KeyPrefix { get; }

    /// <summary>A migration name for stage flags that belong to this run only.</summary>
    string Migration { get; }
}
