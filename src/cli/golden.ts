console.log('golden stub', process.argv.slice(2));
