using System.Diagnostics;
using System.Text;

namespace SignalFunctions.EngineBench;

/// <summary>A child's stdout and stderr, interleaved as they arrive, for results and failure messages.</summary>
internal sealed class ProcessOutput
{
    private readonly StringBuilder _text = new();

    public static ProcessOutput Of(Process process)
    {
        var output = new ProcessOutput();
        process.OutputDataReceived += (_, e) => output.Append(e.Data);
        process.ErrorDataReceived += (_, e) => output.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return output;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_text)
            {
                _text.AppendLine(line);
            }
        }
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}
