using System.Text;

namespace SignalFunctions.Tests.Clicks;

/// <summary>
/// A strict RFC 4180 reader, apart from the library the app writes with: records end with CRLF,
/// a field with a comma, quote, CR or LF is in quotes with its quotes doubled, and nothing else is
/// accepted (a bare CR or LF outside quotes, a quote inside an unquoted field, a missing final CRLF).
/// </summary>
public static class Rfc4180
{
    public static List<string[]> Parse(string text)
    {
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '"')
            {
                for (i++; ; i++)
                {
                    Assert.True(i < text.Length, "a quoted field is not closed");
                    if (text[i] == '"' && i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else if (text[i] == '"')
                    {
                        i++;
                        break;
                    }
                    else
                    {
                        field.Append(text[i]);
                    }
                }
            }
            else
            {
                for (; i < text.Length && text[i] is not (',' or '\r' or '\n'); i++)
                {
                    Assert.True(text[i] != '"', $"a quote inside an unquoted field, at {i}");
                    field.Append(text[i]);
                }
            }
            Assert.True(i < text.Length, "the last record does not end with CRLF");
            fields.Add(field.ToString());
            field.Clear();
            if (text[i] == ',')
            {
                i++;
                continue;
            }
            Assert.True(text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n', $"a bare CR or LF outside quotes, at {i}");
            i += 2;
            records.Add([.. fields]);
            fields.Clear();
        }
        return records;
    }
}
