using SignalFunctions.Ingest;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Ingest;

public sealed class JourneyKeysTests : IClassFixture<TestDatabase>
{
    private readonly TestDatabase _db;

    public JourneyKeysTests(TestDatabase db) => _db = db;

    [Fact]
    public void Version_5_uuid_matches_the_RFC_4122_published_example()
    {
        // Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org"), the classic known answer.
        var dns = new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        Assert.Equal(new Guid("886313e1-3b8a-5372-9b90-0c9aee199e5d"), JourneyKeys.NameBased(dns, "python.org"));
    }

    [Theory]
    [InlineData("session-1")]
    [InlineData("ünïcödé session")]
    [InlineData("")]
    public async Task Session_journeys_equal_what_PostgreSQL_uuid_generate_v5_gives_the_backfill(string session)
    {
        await _db.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"");
        var fromSql = await _db.ScalarAsync<Guid>("SELECT uuid_generate_v5(@ns, @session)", new { ns = JourneyKeys.SessionNamespace, session });
        Assert.Equal(fromSql, JourneyKeys.FromSession(session));
    }
}
