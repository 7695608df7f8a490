// msplit -e, run by `msplit` with the task image's `node`, inside the task's
// container: the user's JavaScript never runs in the agent. Reads stdin's
// lines as Manta's msplit did (lines end at \n, \r\n or a lone \r), derives
// each line's reducer as it did (constructExecFunc, parseAndExec,
// selectReducerByHash / selectReducerByInt), and writes `<reducer> <line>\n`
// for the agent, which only checks and strips the prefix.
//   node .msplit.js COUNT JSON(true|false) INT(true|false) EXEC
'use strict';

var mod_crypto = require('crypto');
var mod_fs = require('fs');

var nReducers = parseInt(process.argv[2], 10);
var parseJson = process.argv[3] === 'true';
var byInt = process.argv[4] === 'true';
var exec = process.argv[5];
var allowedTypes = byInt ? [ 'string', 'number' ] : [ 'string' ];

function msFatal(message) {
	process.stderr.write('msplit: ' + message + '\n');
	process.exit(1);
}

// Manta's constructExecFunc: `return (...)` is added when there is none.
function constructExecFunc(code) {
	if (code.indexOf('return') === -1) {
		if (code.substring(code.length - 1) === ';')
			code = code.substring(0, code.length - 1);
		code = 'return (' + code + ')';
	}
	return (new Function('line', code));
}

var func = constructExecFunc(exec);

function parseLine(line) {
	if (line === '')
		return (null);
	try {
		return (JSON.parse(line));
	} catch (e) {
		msFatal('error: input is not json: ' + line);
	}
	return (null);
}

function reducerOf(line) {
	var thiz = parseJson ? parseLine(line) : { line: line };
	var key = func.call(thiz, line);
	var t = typeof (key);
	if (allowedTypes.indexOf(t) === -1) {
		msFatal(key + ' must be one of types [' +
		    allowedTypes.join(', ') + '], but was type ' + t);
	}
	if (byInt) {
		var iKey = parseInt(key, 10);
		if (isNaN(iKey) || iKey < 0 || iKey >= nReducers) {
			msFatal('Parsed ' + key + ' as ' + iKey +
			    ' out of line: ' + line + '\nWhich is not a ' +
			    'number or not within the valid range of reducers.');
		}
		return (iKey);
	}
	var digest = mod_crypto.createHash('md5').update(key).digest('hex');
	return (parseInt(digest.substr(0, 8), 16) % nReducers);
}

var out = [];
var outBytes = 0;

function flush() {
	if (outBytes === 0)
		return;
	var buf = Buffer.concat(out);
	var off = 0;
	while (off < buf.length)
		off += mod_fs.writeSync(1, buf, off, buf.length - off);
	out = [];
	outBytes = 0;
}

function emit(bytes) {
	var r = reducerOf(bytes.toString('utf8'));
	var head = Buffer.from(r + ' ');
	out.push(head, bytes, Buffer.from('\n'));
	outBytes += head.length + bytes.length + 1;
	if (outBytes >= (1 << 20))
		flush();
}

var pieces = [];	// the current line so far
var afterCr = false;	// the last chunk ended in \r: skip a leading \n

process.stdin.on('data', function (chunk) {
	var start = 0;
	var i = 0;
	if (afterCr) {
		afterCr = false;
		if (chunk.length > 0 && chunk[0] === 10)
			start = i = 1;
	}
	for (; i < chunk.length; i++) {
		var c = chunk[i];
		if (c !== 10 && c !== 13)
			continue;
		pieces.push(chunk.subarray(start, i));
		var line = Buffer.concat(pieces);
		pieces = [];
		emit(line);
		if (c === 13) {
			if (i + 1 < chunk.length) {
				if (chunk[i + 1] === 10)
					i++;
			} else {
				afterCr = true;
			}
		}
		start = i + 1;
	}
	if (start < chunk.length)
		pieces.push(chunk.subarray(start));
});

process.stdin.on('end', function () {
	var rest = Buffer.concat(pieces);
	if (rest.length > 0)
		emit(rest);
	flush();
});

process.stdin.on('error', function (err) {
	msFatal('error with stdin: ' + err.message);
});
