using SignalFunctions.Flags.AppConfiguration;

namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>The connection string, the AppConfig settings, and the Sync-Token table.</summary>
public sealed class ConnectionSettingsTests
{
    [Theory]
    [InlineData("Endpoint=https://store.azconfig.io;Id=abc-l0-s0:xyz;Secret=c2VjcmV0PT0=")]
    [InlineData("Secret=c2VjcmV0PT0=; Id=abc-l0-s0:xyz ;Endpoint=https://store.azconfig.io/;")]
    public void A_connection_string_splits_on_semicolons_then_the_first_equals(string text)
    {
        var connection = AppConfigurationConnection.Parse(text);

        Assert.Equal(new Uri("https://store.azconfig.io"), connection.Endpoint);
        Assert.Equal("abc-l0-s0:xyz", connection.Id);
        Assert.Equal("secret=="u8.ToArray(), connection.Secret); // the base64 value's own '=' survives
        Assert.DoesNotContain("c2VjcmV0", connection.ToString());
    }

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData("Endpoint=https://store.azconfig.io;Id=abc", "Secret is missing")]
    [InlineData("Endpoint=https://store.azconfig.io;Secret=c2VjcmV0", "Id is missing")]
    [InlineData("Id=abc;Secret=c2VjcmV0", "Endpoint is missing")]
    [InlineData("Endpoint=store.azconfig.io;Id=abc;Secret=c2VjcmV0", "is not an absolute http(s) URL")]
    [InlineData("Endpoint=https://store.azconfig.io;Id=abc;Secret=not-base64!", "Secret is not base64")]
    [InlineData("https://store.azconfig.io", "is not Name=value")]
    public void A_malformed_connection_string_names_the_setting(string text, string reason)
    {
        var error = Assert.Throws<InvalidOperationException>(() => AppConfigurationConnection.Parse(text));

        Assert.StartsWith("AppConfig__ConnectionString is not a valid App Configuration connection string", error.Message);
        Assert.Contains(reason, error.Message);
        Assert.DoesNotContain("not-base64!", error.Message);
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("Endpoint=https://s.azconfig.io;Id=a;Secret=c2VjcmV0", null, null)]
    [InlineData(null, "https://s.azconfig.io", null)]
    [InlineData("Endpoint=https://s.azconfig.io;Id=a;Secret=c2VjcmV0", "https://s.azconfig.io", "not both")]
    [InlineData(null, "http://s.azconfig.io", "AppConfig__Endpoint 'http://s.azconfig.io' is not an https URL")]
    [InlineData("Endpoint=https://s.azconfig.io;Id=a", null, "AppConfig__ConnectionString")]
    public void Settings_are_validated_at_start(string? connectionString, string? endpoint, string? failure)
    {
        var result = new AppConfigOptionsValidator().Validate(null,
            new AppConfigOptions { ConnectionString = connectionString, Endpoint = endpoint });

        if (failure is null)
        {
            Assert.True(result.Succeeded, result.FailureMessage);
        }
        else
        {
            Assert.Contains(failure, result.FailureMessage);
        }
    }

    [Fact]
    public void Sync_tokens_keep_the_newest_value_per_id()
    {
        var tokens = new SyncTokenPolicy();

        tokens.Add("a=djE=;sn=2, b=Yg==;sn=7");
        tokens.Add("a=djA=;sn=1");
        tokens.Add("a=djM=;sn=3");
        tokens.Add("garbage");

        Assert.Equal(new Dictionary<string, string> { ["a"] = "djM=", ["b"] = "Yg==" }, tokens.Current);
    }
}
