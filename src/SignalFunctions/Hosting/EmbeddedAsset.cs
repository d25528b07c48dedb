using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace SignalFunctions.Hosting;

/// <summary>
/// A text file embedded in the assembly, served as is: compressed once, with a strong ETag per
/// encoding, so a browser that revalidates gets a 304 instead of the file again.
/// </summary>
internal sealed class EmbeddedAsset
{
    private readonly byte[] _plain;
    private readonly byte[] _gzipped;
    private readonly EntityTagHeaderValue _plainTag;
    private readonly EntityTagHeaderValue _gzippedTag;

    public string ContentType { get; }

    public EmbeddedAsset(string text, string contentType)
    {
        ContentType = contentType;
        _plain = Encoding.UTF8.GetBytes(text);
        _gzipped = Gzip(_plain);
        var hash = Convert.ToHexStringLower(SHA256.HashData(_plain))[..20];
        _plainTag = new EntityTagHeaderValue($"\"{hash}\"");
        _gzippedTag = new EntityTagHeaderValue($"\"{hash}-gz\"");
    }

    public static EmbeddedAsset Read(string name, string contentType) => new(EmbeddedFiles.Read(name), contentType);

    /// <summary>The file, gzipped when the client takes it; a matching If-None-Match answers 304 (ASP.NET Core's file result checks it).</summary>
    public FileContentHttpResult Serve(HttpContext context)
    {
        context.Response.Headers.Vary = "Accept-Encoding";
        if (context.Request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Headers.ContentEncoding = "gzip";
            return TypedResults.File(_gzipped, ContentType, entityTag: _gzippedTag);
        }
        return TypedResults.File(_plain, ContentType, entityTag: _plainTag);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }
}
