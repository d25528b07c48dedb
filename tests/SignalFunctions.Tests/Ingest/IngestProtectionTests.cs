using System.Text;
using SignalFunctions.Ingest;

namespace SignalFunctions.Tests.Ingest;

public sealed class IngestProtectionTests
{
    [Theory]
    [InlineData("https://www.example.com", true)]
    [InlineData("https://WWW.example.com", true)]
    [InlineData("http://www.example.com", false)]
    [InlineData("https://www.example.com.evil.test", false)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://localhost", true)]
    [InlineData("http://localhost.evil.test:8080", false)]
    [InlineData("null", false)]
    public void Origins_match_exactly_or_by_any_port_pattern(string origin, bool allowed) =>
        Assert.Equal(allowed, IngestProtection.IsAllowed(origin, ["https://www.example.com", "http://localhost:*"]));

    [Fact]
    public void Webhook_signature_is_the_hex_hmac_of_the_raw_body()
    {
        var body = Encoding.UTF8.GetBytes("""{"click_id":"c1","qualified":true,"score":5}""");
        // Known answer: printf '%s' BODY | openssl dgst -sha256 -hmac s3cret
        Assert.Equal("sha256=1d92962bbe74e2fff09982cd07e18d0586fcb6c12ef03b1d6fcb4f8cfb9fc17a", ClicksApi.Sign(body, "s3cret"));
        var signature = ClicksApi.Sign(body, "s3cret");
        Assert.True(ClicksApi.HasValidSignature(signature, body, "s3cret"));
        Assert.True(ClicksApi.HasValidSignature(signature.ToUpperInvariant().Replace("SHA256=", "sha256=", StringComparison.Ordinal), body, "s3cret"));
        Assert.False(ClicksApi.HasValidSignature(signature, body, "other"));
        Assert.False(ClicksApi.HasValidSignature(signature, Encoding.UTF8.GetBytes("{}"), "s3cret"));
        Assert.False(ClicksApi.HasValidSignature(signature[7..], body, "s3cret"));
        Assert.False(ClicksApi.HasValidSignature(null, body, "s3cret"));
    }
}
