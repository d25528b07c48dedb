namespace SignalFunctions.Tests.AppConfiguration;

public sealed class ContractStore(ContractServer server) : IStoreUnderTest
{
    public ContractServer Server { get; } = server;

    public string ConnectionString => Server.ConnectionString;
    public int PageSize => Server.PageSize;
    public string KeyPrefix => "tests/";
    public string Migration => "contract-test";

    public static async Task<ContractStore> StartAsync(bool https = false) => new(await ContractServer.StartAsync(https));

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
